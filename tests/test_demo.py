"""`manage.py demo` end to end: stand-ins, site, worker and beat; a real run; Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, free_port, wait_for

VERDICTS = {"down-for-everyone", "checks-blocked", "blocked-1020", "service-outage"}


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid``, read from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.worker
@pytest.mark.timeout(300)
def test_the_demo_shows_a_verdict_from_the_stand_ins_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DATA_DIR")
    }
    env.update({"DEMO_DATA_DIR": str(tmp_path / "demo"), "DEBUG": "1", "PYTHONPATH": str(ROOT)})
    output: list[str] = []
    family: set[int] = set()
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    threading.Thread(target=lambda: output.extend(demo.stdout or []), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:

        def home_answers() -> bool:
            assert demo.poll() is None, "demo exited:\n" + "".join(output)
            try:
                return httpx.get(base + "/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(home_answers, timeout=180, interval=0.5)
        text = "".join(output)
        assert f"open {base}/checks/" in text and "the panel says: “" in text
        assert str(tmp_path / "demo") in text
        # Other scenarios are named as the command a person types.
        assert "make demo SCENARIO=fine" in text and "--scenario" not in text

        # Two services side by side: the scenario's trouble hits the first only.
        assert "ChatGPT: " in text and "Discord: " in text
        codes = {}
        with httpx.Client(base_url=base, timeout=10) as client:
            client.get("/checks/panel/")
            token = client.cookies["csrftoken"]
            for service in ("chatgpt", "discord"):
                started = client.post(
                    "/checks/",
                    data={"csrfmiddlewaretoken": token, "article": "", "service": service},
                    headers={"X-CSRFToken": token, "Referer": base + "/checks/"},
                )
                assert started.status_code == 302, started.text[:500]
                report_url = started.headers["location"]

                def verdict(url: str = report_url) -> str | None:
                    page = client.get(url).text
                    found = re.search(r'data-verdict="([^"]+)"', page)
                    return found.group(1) if found else None

                codes[service] = wait_for(verdict, timeout=90, interval=0.5)
                # The plain-HTTP edge has no certificate, so no row may blame one.
                assert "WRONG_VERSION_NUMBER" not in client.get(report_url).text
        assert codes["chatgpt"] in VERDICTS, f"unexpected verdict {codes}"
        assert codes["discord"] == "all-clear", codes

        family = children_of(demo.pid)
        assert len(family) >= 3  # web, worker and beat at least
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    wait_for(lambda: not any(alive(pid) for pid in family), timeout=30, interval=0.2)
    assert "Stopped the web server, the worker and beat." in "".join(output)
    assert "Stopped the stand-in edge and status page." in "".join(output)


@pytest.mark.django_db
def test_the_demo_says_what_each_service_shows() -> None:
    from io import StringIO

    from diagnostics.management.commands.demo import SCENARIOS, Command
    from helpcenter.models import Service

    Service.objects.create(slug="chatgpt", name="ChatGPT", order=1)
    Service.objects.create(slug="discord", name="Discord", order=2)
    said = {}
    for name in ("blocked", "fine", "impaired"):
        out = StringIO()
        options = {"host": "127.0.0.1", "port": 9600, "scenario": name}
        Command(stdout=out)._explain(options, SCENARIOS[name], "ChatGPT", "edge", "pages")
        said[name] = out.getvalue()
    assert "(the scenario hits ChatGPT only)" in said["blocked"]
    assert f"the panel says: “{SCENARIOS['blocked'].headline}”" in said["blocked"]
    discord = "Discord: http://127.0.0.1:9600/checks/?service=discord\n"
    fine = SCENARIOS["fine"]
    assert f"{discord}      the checks see: {fine.situation}\n" in said["blocked"]
    assert f"      the panel says: “{fine.headline}”\n" in said["blocked"]
    assert "hits" not in said["fine"] and "in trouble" not in said["fine"]
    assert said["impaired"].count(SCENARIOS["impaired"].headline) == 2


@pytest.mark.django_db
def test_a_second_demo_updates_the_stand_in_addresses_instead_of_keeping_them(
    edge: Any, status_server: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from diagnostics.management.commands.demo import SCENARIOS, point_targets
    from diagnostics.models import Target
    from diagnostics.standins.refused import RefusedPort
    from helpcenter.models import Service

    Service.objects.create(slug="chatgpt", name="ChatGPT", order=1)
    call_command("seed_targets", stdout=StringIO())
    refused = RefusedPort().start()
    try:
        point_targets(SCENARIOS["outage"], edge, status_server, refused)
    finally:
        refused.stop()
    assert Target.objects.get(slug="chatgpt-web").url.startswith(edge.url("/"))

    # What the next `make demo` runs first: nobody edited these rows, so none is "kept".
    said = StringIO()
    call_command("seed_targets", stdout=said)
    assert "Kept your edit" not in said.getvalue()
    assert Target.objects.get(slug="chatgpt-web").url == "https://chatgpt.com/"
    # An editor's own change after that is still theirs.
    Target.objects.filter(slug="chatgpt-web").update(name="ChatGPT (edited)")
    said = StringIO()
    call_command("seed_targets", stdout=said)
    assert "Kept your edit of check target chatgpt-web." in said.getvalue()
