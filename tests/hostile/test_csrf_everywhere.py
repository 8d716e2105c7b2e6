"""Every URL of the site, POSTed without a CSRF token, is refused (or does not take POST).

The URL list comes from the URLconf itself, so a view added later is covered
without editing this test; a csrf_exempt view that accepts POST fails it, unless
it is named in ONE_CLICK below with the reason a standard requires it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

SAMPLES = {
    "uuid": str(uuid.uuid4()),
    "int": "1",
    "slug": "some-slug",
    "str": "some-text",
    "path": "some/path",
}
# The one view that must take a POST without a token: a mail client's one-click
# unsubscribe (RFC 8058) sends none. The unguessable token in its URL is what
# proves the right to act, and all it can do is delete that one address.
ONE_CLICK = {"notices:unsubscribe"}

# Admin regex groups: the app label must be one the admin knows.
REGEX_SAMPLES = {"app_label": "auth", "url": "anything/"}


def _fill_route(route: str) -> str:
    def sample(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return SAMPLES.get(converter, "x")

    return re.sub(r"<(?:(\w+):)?\w+>", sample, route)


def _fill_regex(regex: str) -> str | None:
    text = regex.lstrip("^").rstrip("$").replace("\\Z", "")

    def group(match: re.Match[str]) -> str:
        name, body = match.group(1), match.group(2)
        if name in REGEX_SAMPLES:
            return REGEX_SAMPLES[name]
        return body.split("|")[0] if "|" in body else "1"

    text = re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, text)
    return None if re.search(r"[\\()\[\]*+?]", text) else text


def site_urls(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "/"
) -> Iterator[str]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        raw = str(entry.pattern)
        is_regex = entry.pattern.__class__.__name__ == "RegexPattern"
        part = _fill_regex(raw) if is_regex else _fill_route(raw)
        if part is None:
            continue
        if isinstance(entry, URLResolver):
            yield from site_urls(entry.url_patterns, prefix + part)
        else:
            yield prefix + part


@pytest.mark.django_db
def test_every_post_without_a_token_is_refused() -> None:
    urls = sorted(set(site_urls()))
    assert len(urls) > 20
    strict = Client(enforce_csrf_checks=True)
    exempt = [url for url in urls if resolve(url).view_name in ONE_CLICK]
    assert len(exempt) == len(ONE_CLICK), exempt  # each named view exists, once
    for url in urls:
        if url in exempt:
            continue
        response = strict.post(url, {"article": "x", "q": "x"})
        assert response.status_code == 403, (url, response.status_code)
        assert b"CSRF verification failed" in response.content, url


@pytest.mark.django_db
def test_the_views_that_take_post_are_among_them() -> None:
    # The control: with the token, CSRF lets the request through and each view answers for
    # itself, so the walk above did reach every view that accepts POST.
    strict = Client(enforce_csrf_checks=True)
    strict.get("/checks/panel/")
    token = strict.cookies["csrftoken"].value
    takes_post = []
    for url in sorted(set(site_urls())):
        response = strict.post(url, {}, HTTP_X_CSRFTOKEN=token)
        assert response.status_code != 403 or url.startswith("/admin/"), url
        if response.status_code != 405:
            takes_post.append(url)
    for expected in ("/checks/", "/admin/login/"):
        assert expected in takes_post, takes_post
    assert any(url.endswith("/answer/") for url in takes_post)
    assert any(url.endswith("/browser/") for url in takes_post)
