"""The content-health page: who may see it, and each of its three lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpcenter.content_health import broken_links, top_search_misses, worst_fixes
from helpcenter.models import Article, Fix, FixFeedback, SearchMiss
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

URL = "/staff/content-health/"


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor(collected_static: None) -> User:
    group, _ = Group.objects.get_or_create(name="Editor")
    group.permissions.add(Permission.objects.get(codename="change_article"))
    user = User.objects.create_user("ed", password="pw", is_staff=True)
    user.groups.add(group)
    return user


def test_it_sends_anonymous_visitors_to_the_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=/staff/content-health/" in response["Location"]


def test_it_refuses_non_staff_and_staff_outside_the_editor_group(collected_static: None) -> None:
    visitor = User.objects.create_user("visitor", password="pw")
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    assert _login(visitor).get(URL).status_code == 403
    assert _login(clerk).get(URL).status_code == 403


def test_it_opens_for_editors_and_superusers(editor: User) -> None:
    boss = User.objects.create_superuser("boss", "b@example.com", "pw")
    for user in (editor, boss):
        response = _login(user).get(URL)
        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_admin_index_links_to_it(editor: User) -> None:
    page = _login(User.objects.create_superuser("boss", "b@e.com", "pw")).get("/admin/")
    assert URL in page.content.decode()


def test_it_lists_the_most_frequent_zero_result_searches(editor: User) -> None:
    now = timezone.now()
    SearchMiss.objects.create(query="rare", count=1, last_seen=now)
    SearchMiss.objects.create(query="error 9999", count=12, last_seen=now - timedelta(days=1))
    SearchMiss.objects.create(query="<b>bold</b>", count=5, last_seen=now)
    assert [m.query for m in top_search_misses(limit=2)] == ["error 9999", "<b>bold</b>"]
    page = _login(editor).get(URL).content.decode()
    assert page.index("error 9999") < page.index("&lt;b&gt;bold&lt;/b&gt;") < page.index("rare")


def test_it_ranks_fixes_by_the_share_that_worked(editor: User) -> None:
    article = make_article("voted", fixes=3)
    good, bad, few = article.fixes.order_by("order")
    votes = {good: [True, True, True, False], bad: [False, False, True], few: [False]}
    n = 0
    for fix, answers in votes.items():
        for helpful in answers:
            n += 1
            FixFeedback.objects.create(fix=fix, helpful=helpful, visitor_hash=f"v{n}")
    scores = worst_fixes()
    assert scores is not None
    assert [(s.fix.slug, s.yes, s.no) for s in scores] == [("step-2", 1, 2), ("step-1", 3, 1)]
    page = _login(editor).get(URL).content.decode()
    assert page.index("Try step 2") < page.index("Try step 1")
    assert "33%" in page and "75%" in page


def test_it_finds_broken_and_redirecting_internal_links(editor: User) -> None:
    target = make_article("target-guide", fixes=2)
    target.slug = "target-renamed"
    target.save()  # the old slug now redirects
    make_article("draft-guide", status="draft")
    source = make_article("source-guide", fixes=1)
    source.body = "\n".join(
        [
            "Intro {#x}",
            "",
            "## Part {#part}",
            "",
            "[ok](/articles/target-renamed/) [ok anchor](/articles/target-renamed/#what-it-means)",
            "[ok fix](/articles/target-renamed/fix/step-1/) [ok here](#part)",
            "[fix here](#fix-step-1)",
            "[external](https://example.com/nope/) [search](/search/?q=1020)",
            "[gone](/articles/never-written/) [draft](/articles/draft-guide/)",
            "[bad anchor](/articles/target-renamed/#nowhere) [bad here](#missing)",
            "[no fix](/articles/target-renamed/fix/no-such-fix/) [nothing](/no/such/page/)",
            "[old](/articles/target-guide/) [old fix](/articles/target-guide/fix/step-2/#main)",
        ]
    )
    source.save()
    fix = source.fixes.get()
    fix.body = "[relative](../../) [wrong](/categories/nope/)"
    fix.save()

    problems = {(p.href, p.redirect): p for p in broken_links()}
    broken = {href for href, redirect in problems if not redirect}
    assert broken == {
        "/articles/never-written/",
        "/articles/draft-guide/",
        "/articles/target-renamed/#nowhere",
        "#missing",
        "/articles/target-renamed/fix/no-such-fix/",
        "/no/such/page/",
        "/categories/nope/",
    }
    assert "not published" in problems[("/articles/draft-guide/", False)].problem
    assert "“nowhere”" in problems[("/articles/target-renamed/#nowhere", False)].problem
    assert problems[("/categories/nope/", False)].source.endswith("> Try step 1")
    old = problems[("/articles/target-guide/", True)]
    assert old.problem == "redirects: update the link to /articles/target-renamed/"
    old_fix = problems[("/articles/target-guide/fix/step-2/#main", True)]
    assert old_fix.problem.endswith("/articles/target-renamed/fix/step-2/#main")

    page = _login(editor).get(URL).content.decode()
    assert "/articles/never-written/" in page
    assert "redirects: update the link to /articles/target-renamed/" in page
    assert reverse("admin:helpcenter_article_change", args=[source.pk]) in page


def test_the_shipped_guides_have_no_broken_links() -> None:
    from django.core.management import call_command

    from helpcenter.management.commands.import_content import DEFAULT_PATH

    call_command("import_content", str(DEFAULT_PATH))
    assert Article.objects.published().count() > 0 and Fix.objects.exists()
    assert [p for p in broken_links() if not p.redirect] == []
