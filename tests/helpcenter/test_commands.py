"""`make run` is `manage.py setup` then `manage.py serve`: both exercised as real processes."""

from __future__ import annotations

import os
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
