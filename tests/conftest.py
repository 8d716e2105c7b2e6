from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import DatabaseError

from diagnostics.standins.processes import stop_process

# Loopback stand-ins for the outside world, shared by every test package; and the
# markers written into the junit report that CI reads after each stage.
pytest_plugins = ["tests.servers.fixtures", "tests.browser.fixtures", "tests.junit_markers"]

ROOT = Path(__file__).resolve().parent.parent

# In CI these must run: a missing Redis, worker or browser fails instead of skipping.
REQUIRE_REAL_SERVICES = os.environ.get("REQUIRE_REAL_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_REAL_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_REAL_SERVICES=1)")
    pytest.skip(reason)


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate`` returns something truthy; tests wait for state, not time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


def database_url_for_subprocess() -> str:
    """The test database as a DATABASE_URL, so worker and web processes use it too."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    env = os.environ.copy()
    # Only the browser tests' own thread needs this; never a served process.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DATABASE_URL"] = database_url_for_subprocess()
    env["DJANGO_SETTINGS_MODULE"] = "helpcenter.settings"
    env["PYTHONPATH"] = str(ROOT)
    env.update(overrides)
    return env


class WorkerProcess:
    """A real Celery worker in its own process, started from the same settings."""

    def __init__(self, queues: str, env: dict[str, str], name: str = "test") -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        command = [
            sys.executable, "-m", "celery", "-A", "helpcenter", "worker",
            "-Q", queues, "--pool", "threads", "--concurrency", "4",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            "--hostname", f"{name}@%h",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if " ready." in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not start:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture(autouse=True)
def _fresh_redis_cache() -> None:
    """Each test starts without the cache entries earlier tests left in Redis.

    Rate-limit counters, login throttles and coalescing locks would otherwise
    leak from test to test (the database cache is rolled back with each test's
    transaction; Redis is not). Only Django's keys go: the broker's queues and
    bindings share the database and must survive for the session's worker.
    """
    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
    try:
        keys = list(client.scan_iter(match=":1:*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.exceptions.ConnectionError:
        pass  # tests that need Redis say so themselves
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _fresh_database_cache(request: pytest.FixtureRequest) -> None:
    """The same for the database cache (the embedded default, no Redis).

    Its table is no model, so neither a test's rollback nor the flush after a
    transactional test empties it: rate-limit counters that the web processes of
    earlier browser tests committed would otherwise refuse a later test's presses
    (every test visitor is 127.0.0.1).
    """
    if settings.REDIS_URL or request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    from django.core.cache import cache

    # No cache table in this test database: nothing can leak.
    with blocker.unblock(), contextlib.suppress(DatabaseError):
        cache.clear()


@pytest.fixture(scope="session")
def clean_broker(django_db_setup: None) -> None:
    """Start the session with no leftover messages from an earlier run."""
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).flushdb()
        except redis.exceptions.ConnectionError:
            skip_or_fail(f"Redis is not reachable at {settings.REDIS_URL}")
    else:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for folder in (options["data_folder_in"], options["processed_folder"]):
            for message in Path(str(folder)).glob("*"):
                message.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def celery_worker(clean_broker: None, django_db_blocker: Any) -> Iterator[WorkerProcess]:
    """One real worker for the session, consuming the default region's queue."""
    worker = WorkerProcess(f"default,checks.{settings.CHECKS_REGION}", subprocess_env())
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebProcess:
    """The site served by gunicorn in its own process, as in production."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "gunicorn", "helpcenter.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4",
            "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        wait_for(self._answers, timeout=60, interval=0.1)

    def _answers(self) -> bool:
        import socket

        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {self.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture(scope="session")
def collected_static(django_db_setup: None) -> None:
    """Production settings use a manifest of hashed static files: build it once."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture
def client(client: Any, collected_static: None) -> Any:
    """pytest-django's test client, with the static manifest the pages need."""
    return client


@pytest.fixture
def start_web(collected_static: None) -> Iterator[Callable[..., WebProcess]]:
    started: list[WebProcess] = []

    def start(**env_overrides: str) -> WebProcess:
        web = WebProcess(subprocess_env(**env_overrides))
        started.append(web)
        return web

    yield start
    for web in started:
        web.stop()


REAL_SERVICE_MARKERS = ("redis", "worker", "browser", "postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last.

    Once Playwright's sync API has started, an event loop stays running in the
    main thread, and any later test that calls asyncio.run() (the probes) fails.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """With REQUIRE_REAL_SERVICES=1, a skipped real-service test counts as a failure."""
    outcome = yield
    report = outcome.get_result()
    worker = getattr(item, "funcargs", {}).get("celery_worker")
    if report.failed and call.when == "call" and isinstance(worker, WorkerProcess):
        # The worker runs in another process: show what it said around the failure.
        report.sections.append(("celery worker log (last 60 lines)", "\n".join(worker.lines[-60:])))
    real = any(item.get_closest_marker(name) for name in REAL_SERVICE_MARKERS)
    if REQUIRE_REAL_SERVICES and report.skipped and real:
        report.outcome = "failed"
        report.longrepr = f"skipped a real-service test in CI: {report.longrepr}"
