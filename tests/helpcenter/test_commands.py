"""`make run` is `manage.py setup` then `manage.py serve`: both exercised as real processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, wait_for
from tests.testenv import TEST_DEFAULTS


def dev_env(data_dir: Path) -> dict[str, str]:
    """What `make run` sees on a fresh machine: DEBUG on, the embedded default, own data."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_DEFAULTS}
    for name in ("DATABASE_URL", "REDIS_URL", "ADMIN_PASSWORD", "ADMIN_USERNAME"):
        env.pop(name, None)
    env.update({"DEBUG": "1", "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"})
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# Run in `manage.py shell` between two setups: the admin's change form posted as a
# browser does (CRLF), by the admin setup created.
EDIT_IN_THE_ADMIN = """
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import setup_test_environment
from helpcenter.models import Article
from tests.helpcenter.admin_forms import as_browser_sends, change_url, form_data

setup_test_environment()  # lets the test client's host in
client = Client()
client.force_login(User.objects.get(username="admin"))
article = Article.objects.get(slug="chatgpt-access-denied-1020")
data = form_data(article, body=article.body + "\\n\\nEdited between two runs.")
response = client.post(change_url(article), as_browser_sends(data))
assert response.status_code == 302, response.content.decode()[:2000]
"""

READ_THE_PUBLIC_PAGE = """
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
page = Client().get("/articles/chatgpt-access-denied-1020/")
print(page.status_code, "Edited between two runs." in page.content.decode())
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


# Four processes, two of them a full setup: slow on a busy machine.
@pytest.mark.timeout(300)
def test_setup_twice_keeps_data_an_admin_edit_and_prints_the_admin_login(data_dir: Path) -> None:
    env = dev_env(data_dir)
    first = manage(env, "setup")
    assert first.returncode == 0, first.stderr
    # A first run on a new database warns about nothing (no cache table missing).
    assert "WARNING" not in first.stderr and "Traceback" not in first.stderr, first.stderr
    assert "Created admin login: admin /" in first.stdout
    credentials = (data_dir / "admin-credentials.txt").read_text()
    assert "password:" in credentials
    assert (data_dir / "db.sqlite3").is_file()  # the file database `make run` uses
    edit = manage(env, "shell", "-c", EDIT_IN_THE_ADMIN)
    assert edit.returncode == 0, edit.stderr

    second = manage(env, "setup")
    assert second.returncode == 0, second.stderr
    assert "Created admin login" not in second.stdout
    assert "Admin login: admin" in second.stdout
    assert (data_dir / "admin-credentials.txt").read_text() == credentials
    assert "0 created" in second.stdout  # starter targets kept, not duplicated
    # The next `make run` keeps the edit, says so, and the public page shows it.
    assert "Kept your edit of ChatGPT says “Access denied” (error 1020)." in second.stdout
    page = manage(env, "shell", "-c", READ_THE_PUBLIC_PAGE)
    assert page.stdout.splitlines()[-1] == "200 True", page.stdout + page.stderr


def test_setup_generates_a_blank_admin_password_and_never_logs_a_given_one(
    data_dir: Path,
) -> None:
    # compose passes .env's blank ADMIN_PASSWORD= through as an empty value.
    blank = manage({**dev_env(data_dir), "ADMIN_USERNAME": "", "ADMIN_PASSWORD": ""}, "setup")
    assert blank.returncode == 0, blank.stderr
    password = (data_dir / "admin-credentials.txt").read_text().split("password: ")[1].strip()
    assert password and f"Created admin login: admin / {password}" in blank.stdout

    given_dir = data_dir.parent / "given"
    env = {**dev_env(given_dir), "ADMIN_USERNAME": "editor", "ADMIN_PASSWORD": "a-given-secret-9"}
    given = manage(env, "setup")
    assert given.returncode == 0, given.stderr
    assert "Created admin login: editor" in given.stdout
    assert "a-given-secret-9" not in given.stdout + given.stderr
    assert not (given_dir / "admin-credentials.txt").exists()


@pytest.mark.worker
def test_serve_runs_site_worker_and_beat_and_stops_them_together(data_dir: Path) -> None:
    env = dev_env(data_dir)
    assert manage(env, "setup").returncode == 0
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:

        def home() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(home, timeout=90, interval=0.2)
        children = subprocess.run(
            ["pgrep", "-P", str(serve.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 3  # web, worker, beat
    finally:
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=60)
    assert serve.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    assert "Stopped the web server, the worker and beat." in output
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )


def make_run_commands(port: int, host: str = "127.0.0.1") -> list[str]:
    """The shell lines `make run` executes, as make itself prints them (-n runs nothing)."""
    # --no-print-directory: under `make test` this make is a sub-make, which would
    # otherwise print "make[1]: Entering directory ..." among the commands.
    printed = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "run",
            f"PORT={port}",
            f"HOST={host}",
            f"PY={sys.executable}",
        ],
        cwd=ROOT,
        env=fresh_env(ROOT / "data" / "unused"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [line for line in printed if line.strip()]


def fresh_env(data_dir: Path) -> dict[str, str]:
    """A newcomer's shell: nothing set but where the data goes."""
    env = dev_env(data_dir)
    for name in ("DEBUG", "SECRET_KEY", "SITE_URL", "HTTPS", "LOG_FORMAT"):
        env.pop(name, None)
    return env


def test_make_run_serves_debug_off_over_plain_http_on_a_loopback_site_url() -> None:
    bootstrap, setup, serve = make_run_commands(8123, host="0.0.0.0")
    assert bootstrap == "bash scripts/bootstrap.sh"
    for line in (setup, serve):
        # Links must name an address a browser can open, even when listening on all.
        assert line.startswith("DEBUG=0 HTTPS=0 SITE_URL=http://127.0.0.1:8123 "), line
    assert serve.endswith("manage.py serve --host 0.0.0.0 --port 8123")


def shell(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.worker
@pytest.mark.timeout(360)  # two full setups and a server start, on a busy machine
def test_make_run_shows_visitors_the_sites_own_pages(data_dir: Path) -> None:
    port = free_port()
    env = fresh_env(data_dir)
    _, setup, serve = make_run_commands(port)

    first = shell(setup, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"Created a secret key in {data_dir}/secret-key" in first.stdout
    key_file = data_dir / "secret-key"
    key = key_file.read_text()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(key.strip()) >= 50

    server = subprocess.Popen(
        # `env` hands the shell's assignments on; exec: the server is this process.
        ["sh", "-c", f"exec env {serve}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def home() -> httpx.Response | None:
            try:
                response = httpx.get(f"{base}/", timeout=5)
            except httpx.HTTPError:
                return None
            return response if response.status_code == 200 else None

        page = wait_for(home, timeout=120, interval=0.2)
        missing = httpx.get(f"{base}/no-such-guide/", timeout=10)
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, page.text[:2000]
        css = httpx.get(base + stylesheet.group(1), timeout=10)
        robots = httpx.get(f"{base}/robots.txt", timeout=10)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)

    # gunicorn, as compose's web service, over plain HTTP: no redirect, no HSTS.
    assert page.headers["server"].startswith("gunicorn"), page.headers
    assert "strict-transport-security" not in page.headers
    assert f'<link rel="canonical" href="http://127.0.0.1:{port}/">' in page.text
    assert f"Sitemap: http://127.0.0.1:{port}/sitemap.xml" in robots.text
    # DEBUG off: the site's own 404 with its search box, not Django's debug page.
    assert missing.status_code == 404
    assert "We couldn't find that page" in missing.text
    assert 'id="notfound-q" type="search" name="q"' in missing.text
    assert "Using the URLconf" not in missing.text and "DEBUG = True" not in missing.text
    # Static files from whitenoise, by their hashed names (collectstatic ran in setup).
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css") and "body" in css.text
    assert "immutable" in css.headers["cache-control"]
    assert server.returncode == 0, output
    assert "Stopped the web server, the worker and beat." in output

    second = shell(setup, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "secret key" not in second.stdout
    assert key_file.read_text() == key  # kept: visitors stay signed in across restarts
