"""Stampede benchmark: many visitors press "Run checks" at once.

Standalone: ``.venv/bin/python bench/stampede.py``. It starts four loopback
targets that answer in 200 ms (the test edge's /slow route, in a child process of
their own), two Celery worker
processes on Redis (REDIS_URL, default redis://127.0.0.1:6379/14, flushed
first), PostgreSQL when reachable (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/helpcenter_bench, recreated) or else a
temporary SQLite file, then:

1. presses "Run checks" 1,000 times within 10 s through HTTP, as the panel does
   (gunicorn, htmx POST, each press from a visitor address of its own), against
   the four targets, and reports the requests that reached each target (must be
   exactly 1 per freshness window), the runs whose verdict came in the press's
   own response apart from the runs that had to wait (press -> verdict as the
   visitor saw it, polling on the panel's back-off schedule, and created ->
   finished on the server), and worker memory;
2. runs single checks over 10 targets that each answer in 0.5 s, against the
   0.65 s goal (concurrent probes: the slowest target plus our overhead).

Results are printed and written into docs/benchmarks.md under "## Diagnostics".
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 1000
SPREAD_SECONDS = 10.0
REGION = "bench"
DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- diagnostics-bench:start -->"
END = "<!-- diagnostics-bench:end -->"


def pick_database() -> tuple[str, str]:
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpcenter_bench"
    )
    try:
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=2) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return url, "PostgreSQL"
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc}); using SQLite", flush=True)
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", "SQLite"


def configure() -> str:
    database_url, database = pick_database()
    data_dir = tempfile.mkdtemp(prefix="stampede-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpcenter.settings",
            # Production settings: DEBUG off (no query log in the workers' memory).
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "HTTPS": "0",
            "SITE_URL": "http://127.0.0.1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATA_DIR": data_dir,
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
            "PROBES_ALLOW_LOOPBACK": "1",
            "CHECKS_REGION": REGION,
            "LOG_LEVEL": "WARNING",
            # Plain HTTP on loopback, and each press from its own (forwarded) address.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
            "TRUSTED_PROXY_COUNT": "1",
        }
    )
    import django
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    # Tables straight from the models, as the tests build them (no migrations).
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return database


class RemoteEdge:
    """A diagnostics.standins.edge server living in a child process.

    The stand-in targets must not share a process (and its GIL) with the
    threads that press "Run checks": busy pressing, they made a target that
    answers in 200 ms take over a second to answer, which measured the bench,
    not the site.
    """

    def __init__(self, conn: Any, index: int, port: int) -> None:
        self._conn, self._index, self.port = conn, index, port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        self._conn.send((self._index, path))
        return int(self._conn.recv())


def _serve_edges(count: int, conn: Any) -> None:
    sys.path.insert(0, str(ROOT))
    from diagnostics.standins.edge import EdgeServer

    edges = [EdgeServer().start() for _ in range(count)]
    conn.send([edge.port for edge in edges])
    while (message := conn.recv()) != "stop":
        index, path = message
        conn.send(edges[index].hits(path))
    for edge in edges:
        edge.stop()


def start_edges(count: int) -> tuple[list[RemoteEdge], Any]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_edges, args=(count, theirs), daemon=True)
    process.start()
    ports = ours.recv()

    def stop() -> None:
        ours.send("stop")
        process.join(timeout=10)

    return [RemoteEdge(ours, index, port) for index, port in enumerate(ports)], stop


def start_workers(count: int) -> list[subprocess.Popen[str]]:
    workers = []
    for index in range(count):
        command = [
            sys.executable, "-m", "celery", "-A", "helpcenter", "worker",
            "-Q", f"checks.{REGION}", "--pool", "threads", "--concurrency", "8",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
            "--hostname", f"stampede{index}@%h",
        ]  # fmt: skip
        workers.append(subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), text=True))
    return workers


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def completion_seconds(run_ids: list[Any]) -> list[float]:
    from diagnostics.models import CheckRun

    rows = CheckRun.objects.filter(pk__in=run_ids, state=CheckRun.State.COMPLETE)
    return [(r.finished_at - r.created_at).total_seconds() for r in rows if r.finished_at]


def start_web() -> tuple[subprocess.Popen[str], str]:
    """The site under gunicorn, as in production (2 workers, 4 threads each to keep pace)."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable, "-m", "gunicorn", "helpcenter.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
        "--log-level", "warning",
    ]  # fmt: skip
    web = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), text=True)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    if not wait_until(answers, 60):
        raise SystemExit("gunicorn did not start")
    return web, url


_POLL_URL = re.compile(r'hx-get="([^"]*\?seen=[^"]*)"')
_SCHEDULE = re.compile(r'data-poll-schedule="([^"]+)"')
_RUN_ID = re.compile(r'data-run-id="([0-9a-f-]{36})"')


async def press_and_wait(
    client: Any, index: int, token: str, at: float, out: dict[str, Any]
) -> None:
    """One visitor: press at ``at`` as the panel does, then poll as it does until the verdict."""
    delay = at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    headers = {
        "HX-Request": "true",
        "X-CSRFToken": token,
        "X-Forwarded-For": f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}",
    }
    import httpx

    pressed = time.monotonic()
    try:
        response = await client.post(
            "/checks/", data={"csrfmiddlewaretoken": token}, headers=headers
        )
    except httpx.HTTPError as exc:
        name = type(exc).__name__
        out["failures"][name] = out["failures"].get(name, 0) + 1
        return
    out["statuses"][response.status_code] = out["statuses"].get(response.status_code, 0) + 1
    if response.status_code != 200:
        return
    html = response.text
    run_id = _RUN_ID.search(html)
    if run_id:
        out["run_ids"].append(run_id.group(1))
    if _POLL_URL.search(html) is None:
        out["at_once"].append(time.monotonic() - pressed)
        return
    out["waited_ids"].append(run_id.group(1) if run_id else "")
    step = 0
    while (poll := _POLL_URL.search(html)) is not None:
        schedule = [float(w) for w in _SCHEDULE.search(html).group(1).split(",")]  # type: ignore[union-attr]
        await asyncio.sleep(schedule[min(step, len(schedule) - 1)])
        step += 1
        try:
            polled = await client.get(poll.group(1).replace("&amp;", "&"), headers=headers)
        except httpx.HTTPError as exc:
            name = type(exc).__name__
            out["failures"][name] = out["failures"].get(name, 0) + 1
            return
        out["polls"][polled.status_code] = out["polls"].get(polled.status_code, 0) + 1
        if polled.status_code == 286:
            out["waited"].append(time.monotonic() - pressed)
            return
        if polled.status_code == 200:
            html = polled.text
        elif polled.status_code != 204 or time.monotonic() - pressed > 60:
            return


async def press_all(url: str) -> dict[str, Any]:
    import httpx

    out: dict[str, Any] = {
        "statuses": {}, "polls": {}, "run_ids": [], "waited_ids": [], "at_once": [], "waited": [],
        "failures": {},
    }  # fmt: skip
    # A visitor waits as long as it takes: the queue is the server's, so no pool timeout.
    limits = httpx.Limits(max_connections=256)
    timeout = httpx.Timeout(120, pool=None)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        panel = await client.get("/checks/panel/")
        token = str(panel.cookies.get("csrftoken") or "")
        started = time.monotonic() + 0.5
        await asyncio.gather(
            *(
                press_and_wait(client, i + 1, token, started + i * SPREAD_SECONDS / RUNS, out)
                for i in range(RUNS)
            )
        )
    out["spread"] = time.monotonic() - started
    return out


def stampede(edges: list[Any], url: str) -> dict[str, Any]:
    from diagnostics import coalesce
    from diagnostics.models import CheckRun, Target

    targets = [
        Target.objects.create(
            name=f"Slow {i}", slug=f"slow-{i}", url=edge.url("/slow?ms=200"), probes=["http"]
        )
        for i, edge in enumerate(edges)
    ]
    out = asyncio.run(press_all(url))
    run_ids = out["run_ids"]

    def done() -> bool:
        return not CheckRun.objects.filter(pk__in=run_ids, state=CheckRun.State.RUNNING).exists()

    finished = wait_until(done, timeout=180)
    durations = completion_seconds(run_ids)
    waited_server = completion_seconds(out["waited_ids"])

    def spread(values: list[float]) -> tuple[float, float, float]:
        if not values:
            return (float("nan"),) * 3
        return percentile(values, 0.5), percentile(values, 0.95), max(values)

    return {
        "statuses": out["statuses"],
        "failures": out["failures"],
        "polls": out["polls"],
        "at_once": len(out["at_once"]),
        "at_once_seen": spread(out["at_once"]),
        "waited": len(out["waited_ids"]),
        "waited_seen": spread(out["waited"]),
        "waited_answered": len(out["waited"]),
        "waited_server": spread(waited_server),
        "spread": out["spread"],
        "finished": finished,
        "complete": len(durations),
        "hits": [edge.hits("/slow") for edge in edges],
        "sent": [coalesce.sent_count(job) for job in coalesce.jobs_for(targets, REGION)],
        "targets": targets,
    }


def wide_run(edge: Any, rounds: int = 5) -> list[float]:
    from diagnostics.models import CheckRun, Target
    from diagnostics.tasks import start_run

    results = []
    for round_index in range(rounds):
        Target.objects.update(enabled=False)
        tag = uuid.uuid4().hex[:6]  # fresh config: nothing to reuse, every probe is sent
        for i in range(10):
            Target.objects.create(
                name=f"Half-second {i}",
                slug=f"half-{round_index}-{i}",
                url=edge.url(f"/slow?ms=500&t={tag}{i}"),
                probes=["http"],
            )
        run = start_run()
        wait_until(
            lambda run=run: CheckRun.objects.get(pk=run.pk).state != CheckRun.State.RUNNING, 30
        )
        results.extend(completion_seconds([run.pk]))
    return results


def write_doc(text: str) -> None:
    body = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    section = f"{START}\n{text.rstrip()}\n{END}"
    if START in body and END in body:
        head, _, rest = body.partition(START)
        _, _, tail = rest.partition(END)
        body = head + section + tail
    elif "## Diagnostics" in body:
        body = body.replace("## Diagnostics", "## Diagnostics\n\n" + section, 1)
    else:
        body = body.rstrip() + "\n\n## Diagnostics\n\n" + section + "\n"
    DOC.write_text(body)


# A run that had to wait is finished within 0.5 s of the probe's answer (200 ms).
WAIT_TARGET = 0.2 + 0.5


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def seconds(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f} s" for v in values)


def loadavg() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    load_before = loadavg()
    database = configure()
    from django.conf import settings

    edges, stop_edges = start_edges(5)
    workers = start_workers(2)
    try:
        from diagnostics import heartbeats

        # The workers are ready when their heartbeat for the region is in.
        if not wait_until(lambda: heartbeats.last_seen(REGION) is not None, 60):
            raise SystemExit("workers did not start")
        web, url = start_web()
        try:
            result = stampede(edges[:4], url)
        finally:
            web.terminate()
            web.wait(timeout=30)
        load_stampede = loadavg()
        rss = [rss_mb(worker.pid) for worker in workers]
        wide = wide_run(edges[4])
        load_after = loadavg()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        stop_edges()

    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"Python {platform.python_version()}"
    )
    exact = all(hits == 1 for hits in result["hits"])
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; `bench/stampede.py`,",
        f"{database} + Redis, 2 Celery workers (threads pool, 8 threads each), one region,",
        f"freshness window {settings.CHECKS_FRESHNESS_SECONDS:g} s. Load average (1 / 5 / 15 min):",
        f"{load_before} before, {load_stampede} after the stampede, {load_after} at the end.",
        "",
        f"**Stampede**: {RUNS} presses of Run checks over {result['spread']:.1f} s through HTTP "
        "(gunicorn, 2 workers x 4 threads; htmx POSTs as the panel sends them, each from its own "
        "address), against 4 targets that answer in 200 ms (one HTTP probe each). A run whose "
        "answers are all fresh is finished in the press's own response; the others poll as the "
        "panel does (back-off schedule, 204 while nothing changed) until the verdict.",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| presses by answer | {dict(sorted(result['statuses'].items()))}; client-side "
        f"failures {result['failures'] or 0} |",
        f"| runs complete | {result['complete']} of {RUNS}"
        f"{'' if result['finished'] else ' (gave up waiting after 180 s)'} |",
        f"| requests that reached each target | {result['hits']} "
        f"({'exactly 1 each' if exact else 'NOT 1 each'}) |",
        f"| `sent` counters per (target, probe) | {result['sent']} |",
        f"| runs complete at once (verdict in the press's response) | {result['at_once']}; "
        f"press -> verdict p50 / p95 / max {seconds(result['at_once_seen'])} |",
        f"| runs that had to wait | {result['waited']} ({result['waited_answered']} saw the "
        f"verdict); press -> verdict as the visitor saw it p50 / p95 / max "
        f"{seconds(result['waited_seen'])}; created -> finished on the server "
        f"{seconds(result['waited_server'])} (target p95 <= {WAIT_TARGET:.2f} s, the 0.2 s "
        f"answer + 0.5 s: {met(result['waited_server'][1] <= WAIT_TARGET)}) |",
        f"| polls by answer | {dict(sorted(result['polls'].items()))} |",
        f"| worker RSS after the stampede | {', '.join(f'{mb:.0f} MB' for mb in rss)} |",
        "",
        f"**Wide run**: one run over 10 targets that each answer in 0.5 s ({len(wide)} runs, "
        "fresh targets each time so every probe is sent), goal 0.65 s.",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| completion, each run | {', '.join(f'{s:.2f} s' for s in wide)} |",
        f"| median | {statistics.median(wide):.2f} s "
        f"({'within' if statistics.median(wide) <= 0.65 else 'over'} the 0.65 s goal) |",
    ]
    text = "\n".join(lines)
    print(text)
    write_doc(text)


if __name__ == "__main__":
    main()
