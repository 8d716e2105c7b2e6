"""The production stack on loopback, measured in one run (issues 3 and 7).

``make bench`` or ``.venv/bin/python bench/stack.py [--duration 60]``.

It starts, natively and on 127.0.0.1 only: nginx with deploy/nginx/helpcenter.conf
(diagnostics/standins/nginx.py swaps in loopback addresses), gunicorn (2 sync workers,
DEBUG=0), a Celery worker and beat as compose runs them, the machine's Redis
(database BENCH_REDIS_DB, default 15, flushed) and PostgreSQL (database
BENCH_DATABASE, default helpcenter_bench, created and dropped), and loopback stand-ins for the check
targets (diagnostics.standins.edge and diagnostics.standins.statuspage). The starter content
is loaded by ``manage.py setup``; the starter targets, which point at the real
services, are disabled before any worker starts, so no probe leaves the machine.

Then, with wrk and a small asyncio load script:
  (a) the article page through gunicorn at 50 and 200 connections, next to the
      same bytes as a static file served by the same gunicorn (whitenoise);
  (b) the article page through the nginx cache, next to nginx serving the same
      bytes as a plain file; and how long an edit takes to reach readers;
  (a') the article's render time with the page cache off (a second gunicorn with
      PAGE_CACHE=0) beside the same page served from the page cache, one request
      at a time, so the figure is the render, not a queue;
  (c) an outage stampede: visitors, arriving over the first 5 s and each with its
      own address (X-Forwarded-For, as a CDN in front of nginx would send it),
      read the article, fetch the
      panel, press "Run checks" once as the panel does (htmx), post browser
      findings as static/js/checks.js does, poll on the panel's back-off schedule
      until the server's verdict, pause 5 s, and make room for a new visitor;
  (d) memory of a gunicorn worker and of the Celery worker afterwards.

Results go to docs/benchmarks.md ("## Pages (issue 3)", "## Full stack (issue 7)").
Everything started here is stopped on exit, Ctrl-C and errors included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics.standins.nginx import NginxProcess, free_port  # noqa: E402
from diagnostics.standins.processes import stop_process  # noqa: E402

WRK = "/usr/bin/wrk"
DOC = ROOT / "docs" / "benchmarks.md"
# Both overridable, so a run can stay inside the databases its user was given.
DATABASE = os.environ.get("BENCH_DATABASE", "helpcenter_bench")
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "15"))
VISITORS = 200
# What a visitor does after the answer, before a new visitor takes their place.
PAUSE_SECONDS = 5.0
# The visitors arrive spread over this many seconds at the start (one every 25 ms).
RAMP_SECONDS = PAUSE_SECONDS
# Sequential requests per server when timing one render (page cache on and off).
RENDER_SAMPLES = 300
EDIT_MARKER = "Edited by the benchmark at"


# --- processes ------------------------------------------------------------------


class Processes:
    """Every child process and server this run started, stopped in reverse order."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stoppers: list[Any] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(Path(env["DATA_DIR"]) / f"{name}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.children.append((name, process))
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        stop_process(process, timeout=20)

    def stop_all(self) -> None:
        for _name, process in reversed(self.children):
            self.stop(process)
        for stopper in reversed(self.stoppers):
            try:
                stopper()
            except Exception as exc:  # keep stopping the rest
                print(f"cleanup: {exc}", file=sys.stderr)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.2)


def fetch(url: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def rss_mb(pid: int) -> float:
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True)
    return int(out.stdout.strip() or 0) / 1024


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private clean + dirty) in MB, from /proc/<pid>/smaps_rollup.

    RSS counts every page shared with the gunicorn master and the other workers
    in full; PSS divides shared pages among their sharers; USS is what stopping
    this worker would give back.
    """
    fields: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _, rest = line.partition(":")
            fields[name] = int(rest.split()[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {
        "rss": fields.get("Rss", 0) / 1024,
        "pss": fields.get("Pss", 0) / 1024,
        "uss": uss / 1024,
    }


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


# --- setup ------------------------------------------------------------------------


def environment(data_dir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpcenter.settings",
            "PYTHONPATH": str(ROOT),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: no TLS proxy in front to redirect to.
            "HTTPS": "0",
            "SITE_URL": "http://127.0.0.1",
            # The load script stands in for a CDN in front of nginx: two trusted hops.
            "CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
            "TRUSTED_PROXY_COUNT": "2",
            "PROBES_ALLOW_LOOPBACK": "1",
            "CHECKS_REGION": "default",
            "ADMIN_PASSWORD": secrets.token_urlsafe(16),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def create_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_connect_timeout=2).flushdb()


SETUP = """
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
# Tables straight from the models, as the tests build them: the lead generates
# migrations, and fields added since the last one would be missing otherwise.
settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0)
call_command("setup")
"""


def load_content(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True)


def loopback_targets(edge: Any, status: Any) -> None:
    """Swap the starter targets (the real services) for loopback stand-ins."""
    from diagnostics.models import Target

    Target.objects.update(enabled=False)
    Target.objects.create(
        name="Service (stand-in)", slug="bench-service", url=edge.url("/ok"),
        probes=["http"], expected_statuses=[200], order=1, browser_check=True,
    )  # fmt: skip
    Target.objects.create(
        name="Status page (stand-in)", slug="bench-status",
        url=status.url("/statuspage/operational/api/v2/summary.json"),
        kind=Target.Kind.STATUS_PAGE, probes=["status"], provider="statuspage", order=2,
    )  # fmt: skip


def main_article() -> Any:
    from helpcenter.models import Article

    published = Article.objects.published()
    article = published.filter(title__icontains="1020").first() or published.first()
    if article is None:
        raise SystemExit("setup loaded no published article")
    return article


# --- wrk ----------------------------------------------------------------------------


@dataclass
class WrkResult:
    url: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: str
    load: float


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def drain(url: str) -> None:
    """Wait until the server answers promptly again.

    wrk gives up on slow requests after 2 s, but a sync gunicorn worker still
    serves every request queued in its backlog; without this, one run's leftovers
    would be charged to the next.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        started = time.monotonic()
        with contextlib.suppress(OSError):
            fetch(url)
        if time.monotonic() - started < 0.5:
            return
        time.sleep(0.5)


def wrk(url: str, connections: int, seconds: int) -> WrkResult:
    drain(url)
    out = subprocess.run(
        [WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    result = WrkResult(
        url, connections, rps, p50, p99,
        int(non_2xx.group(1)) if non_2xx else 0,
        errors.group(1).strip() if errors else "none",
        os.getloadavg()[0],
    )  # fmt: skip
    print(f"  wrk -c{connections} {url}: {rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return result


# --- the stampede -------------------------------------------------------------------


@dataclass
class Stampede:
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    run_ids: list[str] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)  # press -> server's verdict, as seen
    pressed_at: list[float] = field(default_factory=list)  # when each of those was pressed
    started: float = 0.0  # the stampede's start (time.monotonic())
    at_once: int = 0  # verdicts that came in the press's own response
    presses: int = 0
    limited: int = 0  # presses answered 429
    polls: dict[int, int] = field(default_factory=dict)  # poll answers by status
    browser_posts: dict[int, int] = field(default_factory=dict)
    articles: int = 0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def answer(self, pressed: float) -> None:
        self.answered.append(time.monotonic() - pressed)
        self.pressed_at.append(pressed - self.started)

    def answered_between(self, start: float, end: float) -> list[float]:
        return [a for a, t in zip(self.answered, self.pressed_at, strict=True) if start <= t < end]


_RUN_ID = re.compile(r'data-run-id="([0-9a-f-]{36})"')
_POLL_URL = re.compile(r'hx-get="([^"]*\?seen=[^"]*)"')
_SCHEDULE = re.compile(r'data-poll-schedule="([^"]+)"')
_BROWSER_POST = re.compile(r'data-browser-post="([^"]+)"')
_BROWSER_CHECKS = re.compile(r'data-browser-checks="([^"]+)"')


def browser_report(html: str) -> dict[str, Any] | None:
    """What static/js/checks.js posts for a panel that asks for browser checks: all reached."""
    import html as markup
    import json

    found = _BROWSER_CHECKS.search(html)
    if found is None:
        return None
    targets = json.loads(markup.unescape(found.group(1)))
    fetches = {t["slug"]: {"outcome": "ok", "ms": 20} for t in targets}
    return {"online": True, "cookies": True, "clock_offset_ms": 0, "fetches": fetches}


async def post_browser_findings(
    client: Any, html: str, headers: dict[str, str], result: Stampede
) -> None:
    report, url = browser_report(html), _BROWSER_POST.search(html)
    if report is None or url is None:
        return
    posted = await client.post(url.group(1), json=report, headers=headers)
    result.count(posted.status_code)
    result.browser_posts[posted.status_code] = result.browser_posts.get(posted.status_code, 0) + 1


async def wait_for_verdict(
    client: Any, html: str, headers: dict[str, str], until: float, result: Stampede
) -> bool:
    """Poll as the panel does, on its back-off schedule, until the server's verdict (286)."""
    import html as markup

    step = 0
    while (poll := _POLL_URL.search(html)) is not None and time.monotonic() < until:
        schedule = [float(w) for w in _SCHEDULE.search(html).group(1).split(",")]  # type: ignore[union-attr]
        await asyncio.sleep(schedule[min(step, len(schedule) - 1)])
        step += 1
        polled = await client.get(markup.unescape(poll.group(1)), headers=headers)
        result.count(polled.status_code)
        result.polls[polled.status_code] = result.polls.get(polled.status_code, 0) + 1
        if polled.status_code == 286:
            return True
        if polled.status_code == 200:
            html = polled.text  # progress: a new panel with a new token
        elif polled.status_code != 204:
            return False
    return False


async def visitor(index: int, base: str, slug: str, until: float, result: Stampede) -> None:
    import httpx

    article = f"/articles/{slug}/"
    # Visitors join one after another over the first pause, the rate at which later ones
    # take the places of those leaving: 200 starting in the same instant would be a
    # different test (bench/stampede.py presses 1,000 times in 10 s).
    await asyncio.sleep(index * RAMP_SECONDS / VISITORS)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        iteration = 0
        while time.monotonic() < until:
            iteration += 1
            # A new visitor each time round, with an address of their own.
            address = f"10.{(iteration >> 8) & 255}.{iteration & 255}.{index + 1}"
            headers = {"X-Forwarded-For": address}
            client.cookies.clear()
            try:
                page = await client.get(article, headers=headers)
                result.count(page.status_code)
                result.articles += 1
                panel = await client.get(f"/checks/panel/?article={slug}", headers=headers)
                result.count(panel.status_code)
                token = str(panel.cookies.get("csrftoken") or client.cookies.get("csrftoken") or "")
                htmx = {**headers, "HX-Request": "true", "X-CSRFToken": token}
                pressed = time.monotonic()
                started = await client.post(
                    "/checks/",
                    # checks.js sets browser_checks=1: the panel then asks for the browser's.
                    data={"article": slug, "csrfmiddlewaretoken": token, "browser_checks": "1"},
                    headers=htmx,
                )
                result.count(started.status_code)
                result.presses += 1
                if started.status_code == 429:
                    result.limited += 1
                if started.status_code != 200:
                    await asyncio.sleep(PAUSE_SECONDS)
                    continue
                html = started.text
                run_id = _RUN_ID.search(html)
                if run_id:
                    result.run_ids.append(run_id.group(1))
                # The browser's checks run beside the wait, as in the page.
                findings = asyncio.create_task(post_browser_findings(client, html, htmx, result))
                if _POLL_URL.search(html) is None:
                    result.at_once += 1
                    result.answer(pressed)
                elif await wait_for_verdict(client, html, htmx, until + 30, result):
                    result.answer(pressed)
                await findings
            except httpx.HTTPError as exc:
                name = type(exc).__name__
                result.failures[name] = result.failures.get(name, 0) + 1
            await asyncio.sleep(PAUSE_SECONDS)


async def stampede(base: str, slug: str, seconds: float) -> Stampede:
    result = Stampede(started=time.monotonic())
    until = result.started + seconds
    await asyncio.gather(*(visitor(i, base, slug, until, result) for i in range(VISITORS)))
    return result


def phases(s: Stampede) -> str:
    """Press -> answer while the visitors arrive (the first ten seconds) and afterwards."""
    parts = []
    first = 2 * RAMP_SECONDS
    for label, start, end in ((f"first {first:g} s", 0.0, first), ("afterwards", first, 1e9)):
        times = s.answered_between(start, end)
        parts.append(
            f"{label}: {len(times):,} presses, p50 / p95 {percentile(times, 0.5):.2f} s / "
            f"{percentile(times, 0.95):.2f} s"
        )
    return "; ".join(parts)


def render_times(url: str, samples: int = RENDER_SAMPLES) -> list[float]:
    """Milliseconds per GET, one at a time over one connection, after a short warm-up."""
    import httpx

    times = []
    with httpx.Client(timeout=10) as client:
        for _ in range(20):
            client.get(url)
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return times


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def completion_seconds(run_ids: list[str]) -> tuple[list[float], dict[str, int]]:
    from diagnostics.models import CheckRun

    rows = list(CheckRun.objects.filter(pk__in=run_ids))
    states: dict[str, int] = {}
    for row in rows:
        states[row.state] = states.get(row.state, 0) + 1
    done = [(r.finished_at - r.created_at).total_seconds() for r in rows if r.finished_at]
    return done, states


# --- the edit -------------------------------------------------------------------------


def edit_visible_after(article: Any, proxy_url: str) -> float:
    """Save an edit through the ORM (as the admin does) and time it through nginx."""
    url = f"{proxy_url}{article.get_absolute_url()}"
    fetch(url)  # make sure a cached copy exists
    marker = f"{EDIT_MARKER} {time.time():.0f}."
    article.body = f"{article.body}\n\n{marker}\n"
    saved = time.monotonic()
    article.save()
    while time.monotonic() - saved < 120:
        if marker.encode() in fetch(url):
            return time.monotonic() - saved
        time.sleep(0.1)
    return float("inf")


# --- report ---------------------------------------------------------------------------


def machine() -> str:
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True).stderr
    total = memory[1].split()[1] if len(memory) > 1 else "?"
    return (
        f"{platform.machine()}, nproc {os.cpu_count()}, {total} RAM (free -h), "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"{nginx.strip().removeprefix('nginx version: ')}, wrk 4.1.0"
    )


def write_section(title: str, marker: str, text: str) -> None:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    body = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    section = f"{start}\n{text.rstrip()}\n{end}"
    if start in body and end in body:
        head, _, rest = body.partition(start)
        body = head + section + rest.partition(end)[2]
    elif title in body:
        body = body.replace(title, f"{title}\n\n{section}", 1)
    else:
        body = f"{body.rstrip()}\n\n{title}\n\n{section}\n"
    DOC.write_text(body)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def row(result: WrkResult, label: str) -> str:
    return (
        f"| {label} | {result.connections} | {result.rps:,.0f} | {result.p50_ms:.1f} ms | "
        f"{result.p99_ms:.1f} ms | {result.non_2xx} | {result.load:.1f} |"
    )


def pages_text(
    when: str,
    where: str,
    pages: dict[str, WrkResult],
    slug: str,
    size: int,
    memory: list[dict[str, float]] | None = None,
    preload: bool = False,
) -> str:
    lines = [
        f"Run {when} on {where}; `bench/stack.py` (`make bench`). gunicorn with 2 sync workers"
        f"{' (--preload)' if preload else ''},",
        "DEBUG=0, the production middleware, PostgreSQL + Redis. The page is the starter guide",
        f"`/articles/{slug}/` ({size / 1024:.1f} KB); the static file is the same bytes saved",
        "into STATIC_ROOT and served by whitenoise in the same gunicorn. wrk -t2, 10 s each,",
        "page and file measured back to back. Load average (1 min) at the end of each run.",
        "",
        "| what | connections | req/s | p50 | p99 | non-2xx | load |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in (50, 200):
        lines.append(row(pages[f"page{c}"], "article page (page cache replay)"))
        lines.append(row(pages[f"file{c}"], "same bytes, whitenoise"))
    lines.append("")
    for c in (50, 200):
        page, file = pages[f"page{c}"], pages[f"file{c}"]
        # A run that completed nothing (every request timed out) has no ratio.
        ratio = page.rps / file.rps if file.rps else float("nan")
        p99 = page.p99_ms / file.p99_ms if file.p99_ms else float("nan")
        lines.append(
            f"- {c} connections: throughput {ratio:.2f}x the static file (target >= 0.8x: "
            f"{verdict(ratio >= 0.8)}); p99 {p99:.2f}x the file's (target <= 2x: "
            f"{verdict(p99 <= 2)})."
        )
    if memory:
        rss = [round(m["rss"]) for m in memory]
        lines.append(
            f"- gunicorn workers after the run: RSS {rss} MB (target <= 80 MB: "
            f"{verdict(max(rss) <= 80)}), PSS {[round(m['pss']) for m in memory]} MB, "
            f"USS {[round(m['uss']) for m in memory]} MB (/proc/<pid>/smaps_rollup)."
        )
    return "\n".join(lines)


def stack_text(when: str, where: str, data: dict[str, Any], seconds: float) -> str:
    cache, plain = data["nginx_cache"], data["nginx_file"]
    ratio = cache.rps / plain.rps if plain.rps else float("nan")
    s: Stampede = data["stampede"]
    done, states = data["completion"]
    server_errors = sum(n for code, n in s.statuses.items() if code >= 500)
    limited = s.limited
    p95 = percentile(done, 0.95)
    answer_p95 = percentile(s.answered, 0.95)
    cached, uncached = data["render_cached"], data["render_uncached"]
    uncached_p95 = percentile(uncached, 0.95)
    gunicorn_rss, celery_rss = data["gunicorn_rss"], data["celery_rss"]
    lines = [
        f"Run {when} on {where}; `bench/stack.py` (`make bench`): nginx (2 workers,",
        "deploy/nginx/helpcenter.conf) -> gunicorn (2 sync workers) -> PostgreSQL + Redis, a",
        "Celery worker (prefork, concurrency 2, as in compose) and beat, loopback targets: one",
        "HTTP service and one status page. Load average (1 min) beside each figure.",
        "",
        "**Article through the nginx cache** (wrk -t2 -c50, 10 s, back to back):",
        "",
        "| what | connections | req/s | p50 | p99 | non-2xx | load |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row(cache, "article page, nginx cache"),
        row(plain, "same bytes, nginx file"),
        "",
        f"- cache throughput {ratio:.2f}x the plain file "
        f"(target >= 0.5x: {verdict(ratio >= 0.5)}).",
        f"- an edit saved through the ORM (as the admin saves) reached readers through nginx "
        f"after {data['edit_seconds']:.1f} s (the cache keeps pages 10 s).",
        "",
        f"**One article render** (gunicorn direct, one request at a time over one connection, "
        f"{RENDER_SAMPLES} each, back to back; load {data['render_load']:.1f}): the page cache "
        "off is a second gunicorn with PAGE_CACHE=0, so every request runs the view (the "
        "article's fragments stay cached by its revision, as after an edit elsewhere).",
        "",
        "| what | p50 | p95 | max |",
        "| --- | --- | --- | --- |",
        f"| article page, page cache off (view renders) | {percentile(uncached, 0.5):.1f} ms | "
        f"{uncached_p95:.1f} ms | {max(uncached):.1f} ms |",
        f"| article page, page cache on (replayed) | {percentile(cached, 0.5):.1f} ms | "
        f"{percentile(cached, 0.95):.1f} ms | {max(cached):.1f} ms |",
        "",
        f"- uncached render p95 {uncached_p95:.1f} ms (target <= 10 ms: "
        f"{verdict(uncached_p95 <= 10)}).",
        "",
        f"**Outage stampede**: {VISITORS} concurrent visitors for {seconds:g} s, arriving one "
        f"every {RAMP_SECONDS / VISITORS * 1000:g} ms over the first {RAMP_SECONDS:g} s, each "
        "round a new visitor with its own X-Forwarded-For address: read the article, fetch the "
        "panel (CSRF cookie), press Run checks once as the panel does (htmx, browser checks on), "
        "post the browser's findings as static/js/checks.js does, poll on the panel's back-off "
        f"schedule ({data['poll']} s) until the server's verdict, then pause "
        f"{PAUSE_SECONDS:g} s before a new visitor takes the place.",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| article reads | {s.articles:,} |",
        f"| presses | {s.presses:,} |",
        f"| answered (the server's verdict reached the visitor) | {len(s.answered):,}, of which "
        f"{s.at_once:,} in the press's own response |",
        f"| press -> final answer, as the visitor saw it, p50 / p95 / max | "
        f"{percentile(s.answered, 0.5):.2f} s / {answer_p95:.2f} s / "
        f"{max(s.answered, default=float('nan')):.2f} s "
        f"(target p95 <= 1 s: {verdict(answer_p95 <= 1)}) |",
        f"| the same by when pressed | {phases(s)} |",
        f"| rate-limited answers (429) | {limited:,} of {s.presses:,} presses "
        f"(target 0: {verdict(limited == 0)}) |",
        f"| server errors (5xx) | {server_errors} (target 0: {verdict(server_errors == 0)}) |",
        f"| polls by answer | {dict(sorted(s.polls.items()))} (204: nothing new, "
        "answered from Redis without the database) |",
        f"| browser findings posted | {dict(sorted(s.browser_posts.items()))} |",
        f"| runs started | {len(s.run_ids):,} (states: {states}) |",
        f"| run completion (created -> finished, server side) p50 / p95 / max | "
        f"{percentile(done, 0.5):.2f} s / {p95:.2f} s / {max(done, default=float('nan')):.2f} s |",
        f"| client-side failures (timeouts, resets) | {s.failures or 0} |",
        f"| all answers by status | {dict(sorted(s.statuses.items()))} |",
        f"| outbound requests per target | service {data['hits_service']}, status page "
        f"{data['hits_status']} |",
        f"| load average after | {data['load_after']:.1f} |",
        "",
        f"**Memory after the run** (ps RSS): gunicorn workers {gunicorn_rss} MB "
        f"(target <= 80 MB: {verdict(max(gunicorn_rss) <= 80)}); Celery worker main "
        f"{celery_rss[0]} MB, pool processes {celery_rss[1:]} MB (target <= 120 MB: "
        f"{verdict(max(celery_rss) <= 120)}).",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------


def run(args: argparse.Namespace, procs: Processes) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hc-bench-"))
    procs.stoppers.append(lambda: shutil.rmtree(data_dir, ignore_errors=True))
    env = environment(data_dir)
    os.environ.update(env)

    print("PostgreSQL and Redis ...", flush=True)
    create_database()
    procs.stoppers.append(drop_database)
    flush_redis()
    procs.stoppers.append(flush_redis)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from diagnostics.standins.edge import EdgeServer
    from diagnostics.standins.statuspage import StatusPageServer

    print("manage.py setup (DEBUG=0) ...", flush=True)
    load_content(env)
    edge, status = EdgeServer().start(), StatusPageServer().start()
    procs.stoppers.extend([edge.stop, status.stop])
    loopback_targets(edge, status)
    article = main_article()
    slug = article.slug
    connection.close()

    web_port = free_port()
    gunicorn = [
        sys.executable, "-m", "gunicorn", "helpcenter.wsgi:application",
        "--bind", f"127.0.0.1:{web_port}", "--workers", "2", "--worker-class", "sync",
        "--backlog", "2048", "--log-level", "warning",
        *(["--preload"] if args.preload else []),
    ]  # fmt: skip
    web_url = f"http://127.0.0.1:{web_port}"
    web = procs.start("gunicorn", gunicorn, env)
    wait_http(f"{web_url}/healthz/")
    # The same bytes as a static file: whitenoise indexes STATIC_ROOT when a worker
    # starts, so the file goes in first and gunicorn starts again.
    html = fetch(f"{web_url}/articles/{slug}/")
    static_file = Path(settings.STATIC_ROOT) / "bench" / "article.html"
    static_file.parent.mkdir(parents=True, exist_ok=True)
    static_file.write_bytes(html)
    procs.stop(web)
    web = procs.start("gunicorn", gunicorn, env)
    wait_http(f"{web_url}/healthz/")
    assert fetch(f"{web_url}/static/bench/article.html") == html
    assert fetch(f"{web_url}/articles/{slug}/") == html, "the page is not the same for everyone"

    if args.only == "pages":
        run_pages_only(args, web, web_url, slug, html)
        return

    proxy = NginxProcess(web_port, Path(settings.STATIC_ROOT), workers=2).start()
    procs.stoppers.append(proxy.stop)
    celery = procs.start(
        "celery-worker",
        [sys.executable, "-m", "celery", "-A", "helpcenter", "worker", "-Q",
         "default,checks.default", "--concurrency", "2", "--loglevel", "WARNING"],
        env,
    )  # fmt: skip
    procs.start(
        "celery-beat",
        [sys.executable, "-m", "celery", "-A", "helpcenter", "beat", "--loglevel", "WARNING",
         "--schedule", str(data_dir / "celerybeat-schedule")],
        env,
    )  # fmt: skip
    from diagnostics import heartbeats

    deadline = time.monotonic() + 90
    while heartbeats.last_seen("default") is None:
        if time.monotonic() > deadline or celery.poll() is not None:
            raise RuntimeError(f"the Celery worker did not start; see {data_dir}/celery-worker.log")
        time.sleep(0.5)

    if os.environ.get("BENCH_PAUSE"):  # debugging: leave the stack up for a look
        print(f"stack up: {web_url} {proxy.url} {data_dir}", flush=True)
        time.sleep(float(os.environ["BENCH_PAUSE"]))
    seconds = args.wrk_seconds
    print("(a) pages through gunicorn ...", flush=True)
    pages = {}
    for c in (50, 200):
        pages[f"page{c}"] = wrk(f"{web_url}/articles/{slug}/", c, seconds)
        pages[f"file{c}"] = wrk(f"{web_url}/static/bench/article.html", c, seconds)

    print("(a') one render, page cache on and off ...", flush=True)
    uncached_env = {**env, "PAGE_CACHE": "0"}
    uncached_port = free_port()
    uncached_web = procs.start(
        "gunicorn-uncached",
        [*gunicorn[:5], f"127.0.0.1:{uncached_port}", *gunicorn[6:]],
        {**uncached_env, "DATA_DIR": env["DATA_DIR"]},
    )
    uncached_url = f"http://127.0.0.1:{uncached_port}"
    wait_http(f"{uncached_url}/healthz/")
    render: dict[str, Any] = {
        "render_uncached": render_times(f"{uncached_url}/articles/{slug}/"),
        "render_cached": render_times(f"{web_url}/articles/{slug}/"),
        "render_load": os.getloadavg()[0],
    }
    procs.stop(uncached_web)

    print("(b) pages through nginx ...", flush=True)
    fetch(f"{proxy.url}/articles/{slug}/")
    results: dict[str, Any] = {
        "nginx_cache": wrk(f"{proxy.url}/articles/{slug}/", 50, seconds),
        "nginx_file": wrk(f"{proxy.url}/static/bench/article.html", 50, seconds),
        **render,
    }
    results["edit_seconds"] = edit_visible_after(article, proxy.url)
    print(f"  edit visible after {results['edit_seconds']:.1f} s", flush=True)
    connection.close()

    print(f"(c) stampede: {VISITORS} visitors for {args.duration:g} s ...", flush=True)
    edge.reset()
    with status._lock:
        status.requests.clear()
    results["poll"] = ", ".join(f"{wait:g}" for wait in settings.CHECKS_POLL_SCHEDULE)
    results["stampede"] = asyncio.run(stampede(proxy.url, slug, args.duration))
    results["load_after"] = os.getloadavg()[0]
    results["completion"] = completion_seconds(results["stampede"].run_ids)
    results["hits_service"] = edge.hits("/ok")
    results["hits_status"] = len(status.requests)

    print("(d) memory ...", flush=True)
    results["gunicorn_rss"] = [round(rss_mb(pid)) for pid in children_of(web.pid)]
    results["celery_rss"] = [round(rss_mb(pid)) for pid in [celery.pid, *children_of(celery.pid)]]

    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    where = machine()
    size = len(html)
    memory = [memory_mb(pid) for pid in children_of(web.pid)]
    pages_section = pages_text(when, where, pages, slug, size, memory, args.preload)
    stack_section = stack_text(when, where, results, args.duration)
    print(pages_section, stack_section, sep="\n\n")
    if not args.no_write:
        write_section("## Pages (issue 3)", "pages-bench", pages_section)
        write_section("## Full stack (issue 7)", "stack-bench", stack_section)


def run_pages_only(
    args: argparse.Namespace, web: subprocess.Popen[bytes], web_url: str, slug: str, html: bytes
) -> None:
    """(a) and (d) only: the page against the static file, then the workers' memory."""
    print("(a) pages through gunicorn ...", flush=True)
    pages = {}
    for c in (50, 200):
        pages[f"page{c}"] = wrk(f"{web_url}/articles/{slug}/", c, args.wrk_seconds)
        pages[f"file{c}"] = wrk(f"{web_url}/static/bench/article.html", c, args.wrk_seconds)
    print("(d) memory ...", flush=True)
    memory = [memory_mb(pid) for pid in children_of(web.pid)]
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    text = pages_text(when, machine(), pages, slug, len(html), memory, args.preload)
    print(text)
    if not args.no_write:
        write_section("## Pages (issue 3)", "pages-bench", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="stampede seconds (60)")
    parser.add_argument("--wrk-seconds", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    parser.add_argument(
        "--only", choices=["all", "pages"], default="all",
        help="pages: only (a) and the web workers' memory, no nginx, Celery or stampede",
    )  # fmt: skip
    parser.add_argument(
        "--preload", action=argparse.BooleanOptionalAction, default=True,
        help="gunicorn --preload, as compose runs it: workers share the loaded app (default)",
    )  # fmt: skip
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit(f"wrk is needed at {WRK} (apt-get install wrk)")
    procs = Processes()

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        run(args, procs)
    except KeyboardInterrupt:
        print("interrupted; stopping everything", file=sys.stderr)
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
