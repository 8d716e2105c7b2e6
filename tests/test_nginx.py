"""nginx in front of gunicorn, natively, with the configuration docker-compose deploys.

gunicorn runs the site as in production; nginx runs deploy/nginx/helpcenter.conf
with only its upstream, static folder and cache folder pointed at loopback
(diagnostics/standins/nginx.py). What a reader gets is read from nginx's own answers:
X-Cache-Status, the static location's X-Served-By, and its access log, whose
upstream field says whether gunicorn saw the request at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from diagnostics.standins import nginx
from helpcenter.models import Article
from tests.conftest import WebProcess, skip_or_fail, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PROXY_ENV = {"CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR", "TRUSTED_PROXY_COUNT": "1"}


class Stack:
    def __init__(self, web: WebProcess, proxy: nginx.NginxProcess) -> None:
        self.web = web
        self.proxy = proxy

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        # Any 127.x address reaches loopback, so each source stands for one visitor.
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.proxy.url, transport=transport, timeout=60)

    def proxied(self, path: str) -> list[str]:
        """Access-log lines for ``path`` that nginx passed on to gunicorn."""
        lines = [line.split() for line in self.proxy.log_lines()]
        return [" ".join(f) for f in lines if len(f) >= 6 and f[2] == path and f[5] != "-"]


@pytest.fixture
def stack(start_web: Callable[..., WebProcess]) -> Iterator[Stack]:
    if not nginx.available():
        skip_or_fail(f"nginx is not installed at {nginx.NGINX}")
    web = start_web(**PROXY_ENV)
    proxy = nginx.NginxProcess(web.port, Path(settings.STATIC_ROOT)).start()
    try:
        yield Stack(web, proxy)
    finally:
        proxy.stop()


@pytest.fixture
def article() -> Article:
    return Article.objects.create(
        title="Access denied (error 1020)",
        slug="access-denied-1020",
        summary="What the block means.",
        body="The first version of this guide.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now(),
    )


def cache_status(response: httpx.Response) -> str:
    return response.headers.get("x-cache-status", "")


def test_it_serves_static_files_itself(stack: Stack) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    hashed = staticfiles_storage.url("css/checks.css")  # the name pages link to
    with stack.client() as client:
        response = client.get(hashed)
        missing = client.get("/static/no-such-file.css")

    assert response.status_code == 200
    assert response.headers["x-served-by"] == "nginx-static"
    assert "immutable" in response.headers["cache-control"]
    assert (
        response.content
        == (Path(settings.STATIC_ROOT) / hashed.removeprefix("/static/")).read_bytes()
    )
    assert missing.status_code == 404
    assert missing.headers["x-served-by"] == "nginx-static"
    assert not stack.proxied(hashed) and not stack.proxied("/static/no-such-file.css")


def test_a_readers_second_request_is_a_cache_hit(stack: Stack, article: Article) -> None:
    path = article.get_absolute_url()
    with stack.client() as client:
        first = client.get(path)
        second = client.get(path)

    assert first.status_code == second.status_code == 200
    assert cache_status(first) == "MISS"
    assert cache_status(second) == "HIT"
    assert second.content == first.content
    assert "set-cookie" not in second.headers
    assert len(stack.proxied(path)) == 1


def test_signed_in_editors_always_get_a_fresh_page(stack: Stack, article: Article) -> None:
    path = article.get_absolute_url()
    with stack.client() as client:
        client.get(path)
        editor = client.get(path, headers={"Cookie": "csrftoken=abc; sessionid=editor"})
        reader = client.get(path)

    assert cache_status(editor) == "BYPASS"
    assert cache_status(reader) == "HIT"
    assert len(stack.proxied(path)) == 2


def test_posts_checks_and_admin_are_never_cached(stack: Stack, article: Article) -> None:
    path = article.get_absolute_url()
    with stack.client() as client:
        posts = [client.post(path, data={"x": "1"}) for _ in range(2)]
        panels = [client.get("/checks/panel/") for _ in range(2)]
        admin = [client.get("/admin/login/") for _ in range(2)]

    # Django's CSRF check answered both: neither came from the cache.
    assert [r.status_code for r in posts] == [403, 403]
    assert len(stack.proxied(path)) == 2
    assert all(r.status_code == 200 and "csrftoken" in r.cookies for r in panels)
    assert len(stack.proxied("/checks/panel/")) == 2
    assert len(stack.proxied("/admin/login/")) == 2
    assert not any(cache_status(r) for r in [*posts, *panels, *admin])


def test_an_edit_reaches_readers_and_stale_pages_cover_updates_and_outages(
    stack: Stack, article: Article
) -> None:
    path = article.get_absolute_url()
    with stack.client() as client:
        assert cache_status(client.get(path)) == "MISS"
        article.body = "The second version of this guide."
        article.save()

        # Once the entry expires, the first reader still gets the old page at once
        # while nginx fetches the new one in the background.
        def stale_answer() -> Any:
            response = client.get(path)
            return response if cache_status(response) in {"STALE", "UPDATING"} else None

        stale = wait_for(stale_answer, timeout=30, interval=0.2)
        assert "The first version" in stale.text

        def edited_page() -> Any:
            response = client.get(path)
            return response if "The second version" in response.text else None

        assert wait_for(edited_page, timeout=30, interval=0.2).status_code == 200

        # gunicorn gone: readers keep getting the last good page.
        stack.web.stop()

        def served_during_outage() -> Any:
            response = client.get(path)
            return response if cache_status(response) == "STALE" else None

        during = wait_for(served_during_outage, timeout=30, interval=0.2)
        assert during.status_code == 200
        assert "The second version" in during.text


def test_the_client_address_reaches_django_and_a_forged_one_does_not(stack: Stack) -> None:
    # Search allows 60 queries a minute per client: the limit proves whose address Django saw.
    def limited(client: httpx.Client, **headers: str) -> httpx.Response:
        for n in range(200):
            response = client.get("/search/", params={"q": f"word{n}"}, headers=headers)
            if response.status_code == 429:
                return response
        raise AssertionError("the search limit never applied")

    with stack.client("127.0.0.5") as first, stack.client("127.0.0.6") as second:
        limited(first)
        # Writing another address into the header does not escape the limit:
        # nginx appends the real one and Django reads only that.
        forged = first.get(
            "/search/", params={"q": "again"}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        other = second.get("/search/", params={"q": "again"})

    assert forged.status_code == 429
    assert other.status_code == 200


def test_behind_a_tls_proxy_the_page_comes_without_a_redirect_loop(
    start_web: Callable[..., WebProcess],
) -> None:
    # .env.example's HTTPS setting: trust the proxy's scheme header, redirect plain HTTP.
    if not nginx.available():
        skip_or_fail(f"nginx is not installed at {nginx.NGINX}")
    web = start_web(HTTPS="1", SITE_URL="https://help.example.org", **PROXY_ENV)
    proxy = nginx.NginxProcess(web.port, Path(settings.STATIC_ROOT)).start()
    try:
        with httpx.Client(base_url=proxy.url, timeout=60) as client:
            direct = client.get("/")
            proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
    finally:
        proxy.stop()
    assert direct.status_code == 301
    assert direct.headers["location"].startswith("https://")
    assert proxied.status_code == 200


def test_it_serves_uploaded_images_itself_and_takes_screenshot_sized_admin_posts(
    start_web: Callable[..., WebProcess], tmp_path: Path
) -> None:
    if not nginx.available():
        skip_or_fail(f"nginx is not installed at {nginx.NGINX}")
    media = tmp_path / "media"
    (media / "images").mkdir(parents=True)
    name = "0123456789abcdef0123456789abcdef.png"
    (media / "images" / name).write_bytes(b"\x89PNG\r\n\x1a\n stand-in bytes")
    web = start_web(MEDIA_ROOT=str(media), **PROXY_ENV)
    proxy = nginx.NginxProcess(web.port, Path(settings.STATIC_ROOT), media_root=media).start()
    stack = Stack(web, proxy)
    try:
        with stack.client() as client:
            image = client.get(f"/media/images/{name}")
            missing = client.get("/media/images/fedcba9876543210fedcba9876543210.png")
            # A 3 MB upload passes nginx (the site-wide limit is 1 MB) and reaches Django,
            # which answers for it (a redirect to the login page: nobody is signed in).
            upload = client.post(
                "/admin/helpcenter/article/image-upload/",
                files={"image": ("shot.png", b"\0" * (3 * 1024 * 1024), "image/png")},
            )
            other = client.post("/search/", content=b"\0" * (3 * 1024 * 1024))
        # nginx logs a request after answering it: wait for the lines to be written.
        upload_proxied = wait_for(
            lambda: stack.proxied("/admin/helpcenter/article/image-upload/"), timeout=10
        )
    finally:
        proxy.stop()
    assert image.status_code == 200
    assert image.headers["x-served-by"] == "nginx-media"  # from disk, not from gunicorn
    assert image.headers["content-type"] == "image/png"
    assert "immutable" in image.headers["cache-control"]
    assert "max-age=31536000" in image.headers["cache-control"]
    assert missing.status_code == 404
    assert upload.status_code != 413 and upload_proxied
    assert other.status_code == 413
