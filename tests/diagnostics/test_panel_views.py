"""The panel, report, answer and browser-findings views, without a worker: rows are stored
directly, as the task would store them."""

from __future__ import annotations

import gc
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from diagnostics.management.commands.seed_rules import A1020, DOWN, STARTER_RULES
from diagnostics.models import CheckRun, ProbeResult, Rule, Target
from helpcenter.models import Article, Fix

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
PASTED_1020 = """Access denied
Error code 1020
You do not have access to chatgpt.com.
The site owner may have set restrictions that prevent you from accessing the site.
Ray ID: 8f0c1a2b3c4d5e6f
Timestamp: 2026-03-01 14:05:11 UTC
Your IP address: 203.0.113.77
Requested URL: chatgpt.com/
Error reference number: 1020
Server ID: FL_123F45
User-Agent: Mozilla/5.0
"""


@pytest.fixture
def rules(db: None) -> None:
    """The starter rules, with every fix they name (content import is not needed here)."""
    for spec in STARTER_RULES:
        for order, (article_slug, fix_slug) in enumerate(spec["fixes"]):
            article, _ = Article.objects.get_or_create(
                slug=article_slug,
                defaults={"title": article_slug, "status": "published",
                          "published_at": timezone.now()},
            )  # fmt: skip
            Fix.objects.get_or_create(
                article=article, slug=fix_slug, defaults={"title": fix_slug, "order": order}
            )
    call_command("seed_rules", verbosity=0)


@pytest.fixture
def targets(db: None) -> dict[str, Target]:
    web = Target.objects.create(
        name="Service", slug="service", url="https://service.example/", kind="web",
        probes=["http"], browser_check=True,
    )  # fmt: skip
    status = Target.objects.create(
        name="Status page", slug="status", url="https://status.example/api/v2/summary.json",
        kind="status", probes=["status"], provider="statuspage",
    )  # fmt: skip
    control = Target.objects.create(
        name="Control", slug="control", url="https://control.example/", kind="control",
        probes=["http"], browser_check=True, browser_url="https://browser-control.example/x",
    )  # fmt: skip
    return {"web": web, "status": status, "control": control}


@pytest.fixture(autouse=True)
def no_worker(settings: Any) -> None:
    # A region nobody consumes: runs stay pending and no probe goes out.
    settings.CHECKS_REGION = "nowhere"
    settings.CHECKS_DELAYED_AFTER = 60
    from django.core.cache import cache

    cache.clear()


def make_run(targets: dict[str, Target], **rows: tuple[str, dict[str, Any]]) -> CheckRun:
    run = CheckRun.objects.create(regions=["default"], expected_results=len(targets))
    for name, (outcome, evidence) in rows.items():
        target = targets[name]
        ProbeResult.store(
            run.pk, target.pk, "default",
            {"probe": target.probes[0], "outcome": outcome, "summary": f"{name} {outcome}",
             "evidence": evidence},
        )  # fmt: skip
    return run


def complete(run: CheckRun) -> CheckRun:
    run.expected_results = run.results.count()
    run.save()
    run.close_if_complete()
    return run


ALL_OK: dict[str, tuple[str, dict[str, Any]]] = {
    "web": ("ok", {"status": 200}),
    "status": ("ok", {"state": "operational"}),
    "control": ("ok", {"status": 200}),
}


@pytest.mark.django_db
def test_the_checks_form_asks_what_the_visitor_sees(client: Client) -> None:
    html = client.get("/checks/").content.decode()
    assert "What do you see?" in html
    assert 'name="sees" value="block_1020"' in html
    assert '<textarea id="run-pasted" name="pasted"' in html
    assert 'name="browser_checks"' in html


@pytest.mark.django_db
def test_it_keeps_only_code_ray_id_and_colo_of_pasted_text(
    client: Client, targets: dict[str, Target]
) -> None:
    pasted = PASTED_1020 + "\nRay ID: 8f0c1a2b3c4d5e6f-FRA\n"
    response = client.post("/checks/", {"sees": "block_1020", "pasted": pasted})
    assert response.status_code == 302
    run = CheckRun.objects.get()
    assert (run.visitor_answer, run.pasted_code, run.pasted_ray_id, run.pasted_colo) == (
        "block_1020",
        "1020",
        "8f0c1a2b3c4d5e6f",
        "FRA",
    )
    stored = json.dumps(list(CheckRun.objects.values()), default=str)
    assert "203.0.113.77" not in stored
    assert "FL_123F45" not in stored and "Mozilla" not in stored


@pytest.mark.django_db
def test_the_report_shows_progress_then_the_verdict_and_ranked_fixes(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = make_run(targets, web=ALL_OK["web"])
    run.record_answer("block_1020", PASTED_1020)
    html = client.get(f"/checks/{run.id}/", **HTMX).content.decode()
    assert "1 of 3 checks done" in html
    assert "data-verdict" not in html

    make_run_rows = {k: v for k, v in ALL_OK.items() if k != "web"}
    for name, (outcome, evidence) in make_run_rows.items():
        target = targets[name]
        ProbeResult.store(run.pk, target.pk, "default", {"probe": target.probes[0],
                          "outcome": outcome, "summary": "x", "evidence": evidence})  # fmt: skip
    run.close_if_complete()
    response = client.get(f"/checks/{run.id}/", **HTMX)
    assert response.status_code == 286
    html = response.content.decode()
    assert 'data-verdict="blocked-1020"' in html
    assert "Blocked by Cloudflare (error 1020)" in html
    fixes = [part.split('"')[0] for part in html.split('data-fix="')[1:]]
    assert fixes[:3] == [
        "use-trusted-vpn-or-turn-vpn-off",
        "clear-site-cookies",
        "disable-browser-extensions",
    ]
    # The support message: code, Ray ID and time, as plain text in a readonly field.
    assert "<textarea" in html and "readonly" in html
    assert "Error code: 1020" in html and "Ray ID: 8f0c1a2b3c4d5e6f" in html
    # The pasted page's own time, labelled as such, not the time the page was drawn.
    assert "Time on your error page: 2026-03-01 14:05:11 UTC" in html
    assert "ran the check" not in html


@pytest.mark.django_db
def test_one_question_asks_whether_the_fix_the_visitor_tried_worked(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    run.record_answer("block_1020", PASTED_1020)
    html = client.get(f"/checks/{run.id}/").content.decode()
    # One question for the whole list, not a vote box under each fix.
    assert html.count('class="fix-worked"') == 1
    assert "vote-slot" not in html and "/vote/" not in html
    # A run about no service is offered each fix once: the first the rule links.
    tried = Fix.objects.get(slug="use-trusted-vpn-or-turn-vpn-off", article__slug=A1020)

    # Without JavaScript the form posts and leads back to the report.
    answered = client.post(f"/checks/{run.id}/fixed/", {"fix": tried.pk, "helpful": "yes"})
    assert answered.status_code == 302
    assert answered["Location"] == f"/checks/{run.id}/#fix-worked"
    vote = tried.feedback.get()
    assert (vote.helpful, vote.verdict_code) == (True, "blocked-1020")
    html = client.get(f"/checks/{run.id}/").content.decode()
    assert f"you told us “{tried.title}” fixed it" in html


@pytest.mark.django_db
def test_a_report_says_when_its_checks_ran_and_warns_once_it_is_old(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    html = client.get(f"/checks/{run.id}/").content.decode()
    ran = timezone.localtime(run.created_at)
    assert f'These checks ran on <time datetime="{ran.isoformat()}">' in html
    assert "old-report" not in html  # fresh: "just now" is true as it stands

    # The same link opened two hours later, as a shared link in a ticket is.
    CheckRun.objects.filter(pk=run.pk).update(created_at=run.created_at - timedelta(hours=2))
    html = client.get(f"/checks/{run.id}/").content.decode()
    assert "This report is 2\xa0hours old." in html
    assert "was true when the checks ran" in html
    assert 'href="/checks/">Run the checks again</a>' in html


@pytest.mark.django_db
def test_a_refused_fix_answer_is_explained_beside_the_question(
    client: Client, rules: None, targets: dict[str, Target], settings: Any
) -> None:
    settings.VOTE_RATE_PER_HOUR = 3  # every answer counts, refused ones too
    run = complete(make_run(targets, **ALL_OK))
    run.record_answer("block_1020", PASTED_1020)
    tried = Fix.objects.get(slug="use-trusted-vpn-or-turn-vpn-off", article__slug=A1020)
    # A fix this report never offered: the report again, the refusal in words.
    for headers in ({}, HTMX):
        odd = client.post(f"/checks/{run.id}/fixed/", {"fix": "0", "helpful": "yes"}, **headers)
        assert odd.status_code == 400
        html = odd.content.decode()
        assert 'class="fix-worked"' in html and 'role="alert"' in html
        assert "Pick one of the fixes and answer Yes or No." in html
    # Over the hourly limit: the same, with a 429 and when to come back.
    first = client.post(f"/checks/{run.id}/fixed/", {"fix": tried.pk, "helpful": "yes"}, **HTMX)
    assert first.status_code == 200
    over = client.post(f"/checks/{run.id}/fixed/", {"fix": tried.pk, "helpful": "no"}, **HTMX)
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert "Too many answers in a short while; try again later." in over.content.decode()
    assert tried.feedback.get().helpful is True  # the refused answer changed nothing


@pytest.mark.django_db
def test_advice_a_visitor_cannot_try_is_not_asked_about(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    advice = ["wait-and-retry", "check-status-page", "wait-for-the-service"]
    Fix.objects.filter(slug__in=[*advice, "check-service-status-page"]).update(
        ask_if_it_worked=False
    )
    outage = {"status": ("down", {"state": "major_outage"})}
    run = complete(make_run(targets, **{**ALL_OK, **outage}))
    html = client.get(f"/checks/{run.id}/").content.decode()
    assert 'data-verdict="down-for-everyone"' in html
    assert 'data-fix="wait-and-retry"' in html  # still advised
    assert 'class="fix-worked"' not in html  # but nothing to ask about
    waiting = Fix.objects.get(slug="wait-and-retry", article__slug=DOWN)
    refused = client.post(f"/checks/{run.id}/fixed/", {"fix": waiting.pk, "helpful": "yes"})
    assert refused.status_code == 400
    assert not waiting.feedback.exists()


@pytest.mark.django_db
def test_the_share_link_is_the_full_address_with_a_copy_button(
    client: Client, rules: None, targets: dict[str, Target], settings: Any
) -> None:
    settings.SITE_URL = "https://help.example"
    run = complete(make_run(targets, **ALL_OK))
    html = client.get(f"/checks/{run.id}/").content.decode()
    full = f"https://help.example/checks/{run.id}/"
    assert f'value="{full}"' in html  # the field the Copy button copies
    assert f'<a href="{full}">{full}</a>' in html  # and a plain link without JavaScript
    assert 'data-copy="#share-' in html


@pytest.mark.django_db
def test_progress_names_what_is_still_running(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = make_run(targets, web=ALL_OK["web"])
    run.expected_results = 3
    run.save()
    html = client.get(f"/checks/{run.id}/", **HTMX).content.decode()
    assert "Checking… 1 of 3 checks done; still waiting for: Control, Status page." in html


@pytest.mark.django_db
def test_the_full_report_page_has_link_preview_and_noindex(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    html = client.get(f"/checks/{run.id}/").content.decode()
    assert 'name="robots" content="noindex"' in html
    assert '<meta property="og:title" content="Check report: Everything looks fine from here">' in (
        html
    )
    assert 'http-equiv="refresh"' not in html


@pytest.mark.django_db
def test_an_outage_on_the_status_page_is_down_for_everyone(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    incidents = [
        {"name": "Elevated errors", "url": "https://status.example/incidents/1"},
        {"name": "Sneaky", "url": "javascript:alert(1)"},
    ]
    run = complete(
        make_run(
            targets,
            web=ALL_OK["web"],
            control=ALL_OK["control"],
            status=("down", {"state": "major_outage", "incidents": incidents}),
        )
    )
    html = client.get(f"/checks/{run.id}/").content.decode()
    assert 'data-verdict="down-for-everyone"' in html
    assert 'data-fix="check-status-page"' in html
    assert '<a href="https://status.example/incidents/1"' in html
    assert "javascript:" not in html
    assert '<details class="evidence">' in html


@pytest.mark.django_db
def test_answering_after_the_run_changes_the_verdict(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    assert 'data-verdict="all-clear"' in client.get(f"/checks/{run.id}/").content.decode()
    response = client.post(f"/checks/{run.id}/answer/", {"sees": "rate_limit"}, **HTMX)
    assert response.status_code == 200
    assert 'data-verdict="rate-limited-1015"' in response.content.decode()
    # Without JavaScript the form posts and lands back on the report.
    response = client.post(f"/checks/{run.id}/answer/", {"sees": "challenge_loop"})
    assert response.status_code == 302 and response["Location"] == f"/checks/{run.id}/"


@pytest.mark.django_db
def test_the_server_verdict_comes_first_and_the_browser_refines_it_in_place(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    run.browser_expected = True
    run.save()
    first = client.get(f"/checks/{run.id}/", **HTMX)
    assert first.status_code == 286  # the server's verdict is final: no more polling
    html = first.content.decode()
    assert "data-verdict=" in html and 'data-verdict="your-connection"' not in html
    assert "checks:poll" not in html and "data-poll-schedule" not in html
    assert "Your browser's own checks are running" in html
    assert "data-browser-checks=" in html and "data-server-now=" in html
    assert "https://browser-control.example/x" in html

    report = {
        "online": True,
        "cookies": True,
        "clock_offset_ms": 1200,
        "fetches": {
            "service": {"outcome": "failed", "ms": 12},
            "control": {"outcome": "ok", "ms": 40.5},
            "status": {"outcome": "ok", "ms": 1},  # not a browser target: dropped
        },
    }
    # As static/js/checks.js posts it: the answer is the refined panel, swapped in place.
    posted = client.post(
        f"/checks/{run.id}/browser/", json.dumps(report), content_type="application/json", **HTMX
    )
    assert posted.status_code == 200
    refined = posted.content.decode()
    assert 'data-verdict="your-connection"' in refined
    assert "data-browser-checks=" not in refined and "checks:poll" not in refined
    assert "Your browser's own checks are running" not in refined
    run.refresh_from_db()
    assert isinstance(run.browser_findings, dict)
    assert set(run.browser_findings["fetches"]) == {"service", "control"}
    again = client.post(
        f"/checks/{run.id}/browser/", json.dumps(report), content_type="application/json"
    )
    assert again.status_code == 409

    final = client.get(f"/checks/{run.id}/", **HTMX)
    assert final.status_code == 286
    assert 'data-verdict="your-connection"' in final.content.decode()


@pytest.mark.django_db
def test_browser_findings_without_htmx_get_no_content(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    report = {"online": True, "fetches": {"service": {"outcome": "ok", "ms": 3}}}
    posted = client.post(
        f"/checks/{run.id}/browser/", json.dumps(report), content_type="application/json"
    )
    assert posted.status_code == 204


@pytest.mark.django_db
def test_browser_findings_must_be_json(client: Client, targets: dict[str, Target]) -> None:
    run = complete(make_run(targets, **ALL_OK))
    bad = client.post(f"/checks/{run.id}/browser/", "nope", content_type="application/json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_the_report_lets_the_browser_reach_only_the_check_targets(
    client: Client, targets: dict[str, Target]
) -> None:
    run = complete(make_run(targets, **ALL_OK))
    policy = client.get(f"/checks/{run.id}/")["Content-Security-Policy"]
    connect = next(p for p in policy.split(";") if p.strip().startswith("connect-src"))
    assert connect.split()[1:] == [
        "'self'",
        "https://browser-control.example",
        "https://service.example",
    ]
    assert "status.example" not in policy
    # Other pages keep the site-wide policy.
    assert "service.example" not in client.get("/checks/panel/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_an_expired_report_says_so(
    client: Client, settings: Any, targets: dict[str, Target]
) -> None:
    settings.CHECKS_REPORT_DAYS = 7
    run = complete(make_run(targets, **ALL_OK))
    CheckRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=8))
    response = client.get(f"/checks/{run.id}/")
    assert response.status_code == 410
    assert "This report has expired" in response.content.decode()


@pytest.mark.django_db
def test_too_many_runs_get_429_and_start_nothing(
    client: Client, settings: Any, targets: dict[str, Target]
) -> None:
    settings.CHECKS_RATE_PER_VISITOR = 2
    for _ in range(2):
        assert client.post("/checks/", {}).status_code == 302
    refused = client.post("/checks/", {}, **HTMX)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "try again in about" in refused.content.decode()
    assert CheckRun.objects.count() == 2
    # The no-JS checks page says the same.
    page = client.post("/checks/", {})
    assert page.status_code == 429 and "try again in about" in page.content.decode()
    # htmx leaves 4xx answers unswapped unless the form opts in (static/js/app.js).
    form = client.get("/checks/panel/").content.decode()
    assert 'class="run-form" data-swap-errors' in form


@pytest.mark.django_db
def test_the_global_limit_applies_to_everyone(
    client: Client, settings: Any, targets: dict[str, Target]
) -> None:
    settings.CHECKS_RATE_GLOBAL = 1
    assert client.post("/checks/", {}, REMOTE_ADDR="198.51.100.1").status_code == 302
    other = client.post("/checks/", {}, REMOTE_ADDR="198.51.100.2")
    assert other.status_code == 429
    assert CheckRun.objects.count() == 1


@pytest.mark.django_db
def test_a_broken_cache_does_not_break_the_panel(
    client: Client, monkeypatch: pytest.MonkeyPatch, targets: dict[str, Target]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        raise ConnectionError("cache is down")

    monkeypatch.setattr(cache, "incr", broken)
    assert client.post("/checks/", {}).status_code == 302
    assert CheckRun.objects.count() == 1


@pytest.mark.django_db
def test_rule_data_costs_two_queries_and_leaves_no_models_for_the_collector(
    rules: None, django_assert_num_queries: Any
) -> None:
    """A prefetch once left every linked fix and its article (bodies and rendered HTML)
    in reference cycles: a web worker polling reports grew by ~20 MB between the
    garbage collector's rare full passes. Plain values leave nothing to collect."""
    with django_assert_num_queries(2):  # the rules, then every rule's fix links
        data = Rule.objects.as_data()
    assert any(rule.fixes for rule in data)
    link = next(rule.fixes[0] for rule in data if rule.fixes)
    fix = Fix.objects.select_related("article").get(pk=link.fix_id)
    assert link.url == fix.get_absolute_url() and link.title == fix.title

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        Rule.objects.as_data()
        gc.collect()
        left = {type(thing).__name__ for thing in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not left & {"Rule", "RuleFix", "Fix", "Article", "QuerySet"}, left


@pytest.mark.django_db
def test_the_report_says_which_region_could_not_reach_the_controls(
    client: Client, rules: None, targets: dict[str, Target]
) -> None:
    run = CheckRun.objects.create(regions=["eu", "us"], expected_results=6)
    for region, control in (("eu", "ok"), ("us", "error")):
        for name, outcome in (("web", "ok"), ("status", "ok"), ("control", control)):
            target = targets[name]
            ProbeResult.store(run.pk, target.pk, region, {"probe": target.probes[0],
                              "outcome": outcome, "summary": f"{name} {outcome}"})  # fmt: skip
    run.close_if_complete()
    html = client.get(f"/checks/{run.id}/").content.decode()
    assert "From us, our server could not reach even the control sites" in html
    # Each probe line says which region saw it.
    assert "Page (from eu)" in html and "Page (from us)" in html
