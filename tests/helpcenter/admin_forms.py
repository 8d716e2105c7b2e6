"""Building the admin change form's POST data the way a browser would send it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User

from helpcenter import editing
from helpcenter.models import Article


def make_editor(username: str = "editor", password: str = "a-long-test-password") -> User:
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=editing.EDITOR_GROUP))
    return user


def change_url(article: Article) -> str:
    return f"/admin/helpcenter/article/{article.pk}/change/"


def form_data(article: Article, **changes: Any) -> dict[str, Any]:
    """The change form as loaded now: every field, every inline, and the loaded state."""
    article.refresh_from_db()
    data: dict[str, Any] = {
        "title": article.title,
        "slug": article.slug,
        "category": article.category_id or "",
        "service": article.service_id or "",
        "summary": article.summary,
        "body": article.body,
        "status": article.status,
        "published_at_0": article.published_at.strftime("%Y-%m-%d") if article.published_at else "",
        "published_at_1": article.published_at.strftime("%H:%M:%S") if article.published_at else "",
        "related": [a.pk for a in article.related.all()],
        "loaded_state": editing.EditState.of(article).to_json(),
    }
    fixes = list(article.fixes.all())
    data.update(_management("fixes", len(fixes)))
    for i, fix in enumerate(fixes):
        data.update(
            {
                f"fixes-{i}-id": fix.pk,
                f"fixes-{i}-article": article.pk,
                f"fixes-{i}-order": fix.order,
                f"fixes-{i}-title": fix.title,
                f"fixes-{i}-slug": fix.slug,
                f"fixes-{i}-summary": fix.summary,
                f"fixes-{i}-body": fix.body,
            }
        )
        if fix.ask_if_it_worked:  # a checked box is sent as "on"; an unchecked one not at all
            data[f"fixes-{i}-ask_if_it_worked"] = "on"
    faq = list(article.faq.all())
    data.update(_management("faq", len(faq)))
    for i, entry in enumerate(faq):
        data.update(
            {
                f"faq-{i}-id": entry.pk,
                f"faq-{i}-article": article.pk,
                f"faq-{i}-order": entry.order,
                f"faq-{i}-question": entry.question,
                f"faq-{i}-answer": entry.answer,
            }
        )
    old = list(article.old_slugs.all())
    data.update(_management("old_slugs", len(old)))
    for i, redirect in enumerate(old):
        data[f"old_slugs-{i}-id"] = redirect.pk
        data[f"old_slugs-{i}-article"] = article.pk
    data.update(changes)
    return data


def as_browser_sends(data: dict[str, Any]) -> dict[str, Any]:
    """Textareas come back with CRLF line endings (the hidden loaded state is JSON).

    A browser reads any line ending in the page as one line break, and posts each as CRLF.
    """
    sent = {
        k: v.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        if isinstance(v, str)
        else v
        for k, v in data.items()
    }
    sent["loaded_state"] = data["loaded_state"]
    return sent


def _management(prefix: str, count: int) -> dict[str, Any]:
    return {
        f"{prefix}-TOTAL_FORMS": count,
        f"{prefix}-INITIAL_FORMS": count,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def post_back(client: Any, url: str, **changes: Any) -> Any:
    """GET an admin change form, then POST it back with ``changes``, as a browser would."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data: dict[str, Any] = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    data.update(changes)
    return client.post(url, data)
