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


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_setup_twice_keeps_data_and_prints_the_admin_login(data_dir: Path) -> None:
    env = dev_env(data_dir)
    first = manage(env, "setup")
    assert first.returncode == 0, first.stderr
    # A first run on a new database warns about nothing (no cache table missing).
    assert "WARNING" not in first.stderr and "Traceback" not in first.stderr, first.stderr
    assert "Created admin login: admin /" in first.stdout
    credentials = (data_dir / "admin-credentials.txt").read_text()
    assert "password:" in credentials

    second = manage(env, "setup")
    assert second.returncode == 0, second.stderr
    assert "Created admin login" not in second.stdout
    assert "Admin login: admin" in second.stdout
    assert (data_dir / "admin-credentials.txt").read_text() == credentials
    assert "0 created" in second.stdout  # starter targets kept, not duplicated


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
