"""Stampede benchmark: many visitors press "Run checks" at once.

Standalone: ``.venv/bin/python bench/stampede.py``. It starts four loopback
targets that answer in 200 ms (the test edge's /slow route, in a child process of
their own), two Celery worker
processes on Redis (REDIS_URL, default redis://127.0.0.1:6379/14, flushed
first), PostgreSQL when reachable (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/helpcenter_bench, recreated) or else a
temporary SQLite file, then:

1. starts 1,000 runs within 10 s against the four targets and reports the
   requests that reached each target (must be exactly 1 per freshness window),
   run completion p50/p95 (finished_at - created_at) and worker memory;
2. runs single checks over 10 targets that each answer in 0.5 s, against the
   0.65 s goal (concurrent probes: the slowest target plus our overhead).

Results are printed and written into docs/benchmarks.md under "## Diagnostics".
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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


def stampede(edges: list[Any]) -> dict[str, Any]:
    from django.db import connection

    from diagnostics import coalesce
    from diagnostics.models import CheckRun, Target
    from diagnostics.runs import start_run

    targets = [
        Target.objects.create(
            name=f"Slow {i}", slug=f"slow-{i}", url=edge.url("/slow?ms=200"), probes=["http"]
        )
        for i, edge in enumerate(edges)
    ]
    started = time.monotonic()

    def press(index: int) -> Any:
        # Pace the presses evenly over the spread, as a crowd would; several threads
        # stand in for several web processes, so creating runs keeps up with the pace.
        delay = started + index * SPREAD_SECONDS / RUNS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            return start_run().pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        run_ids = list(pool.map(press, range(RUNS)))
    spread = time.monotonic() - started

    def done() -> bool:
        return not CheckRun.objects.filter(pk__in=run_ids, state=CheckRun.State.RUNNING).exists()

    finished = wait_until(done, timeout=180)
    durations = completion_seconds(run_ids)
    at_once = sum(1 for seconds in durations if seconds == 0)
    return {
        "at_once": at_once,
        "spread": spread,
        "finished": finished,
        "complete": len(durations),
        "hits": [edge.hits("/slow") for edge in edges],
        "sent": [coalesce.sent_count(job) for job in coalesce.jobs_for(targets, REGION)],
        "p50": percentile(durations, 0.5) if durations else float("nan"),
        "p95": percentile(durations, 0.95) if durations else float("nan"),
        "max": max(durations) if durations else float("nan"),
        "targets": targets,
    }


def wide_run(edge: Any, rounds: int = 5) -> list[float]:
    from diagnostics.models import CheckRun, Target
    from diagnostics.runs import start_run

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


def loadavg() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    load_before = loadavg()
    database = configure()
    from django.conf import settings

    edges, stop_edges = start_edges(5)
    workers = start_workers(2)
    try:
        from diagnostics import health

        # The workers are ready when their heartbeat for the region is in.
        if not wait_until(lambda: health.last_seen(REGION) is not None, 60):
            raise SystemExit("workers did not start")
        result = stampede(edges[:4])
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
        f"**Stampede**: {RUNS} runs started over {result['spread']:.1f} s against 4 targets that "
        "answer in 200 ms (one HTTP probe each).",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| runs complete | {result['complete']} of {RUNS}"
        f"{'' if result['finished'] else ' (gave up waiting after 180 s)'} |",
        f"| requests that reached each target | {result['hits']} "
        f"({'exactly 1 each' if exact else 'NOT 1 each'}) |",
        f"| `sent` counters per (target, probe) | {result['sent']} |",
        f"| runs complete at once from fresh answers (no task queued) | {result['at_once']} |",
        f"| run completion p50 / p95 / max | {result['p50']:.2f} s / {result['p95']:.2f} s / "
        f"{result['max']:.2f} s |",
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
