"""Demo mode: the whole site against loopback stand-ins, so every verdict can be seen offline.

``manage.py demo`` (``make demo``) first re-runs itself with a separate data
folder (``data/demo``, or ``DEMO_DATA_DIR``), its own SQLite file and embedded
broker, and ``PROBES_ALLOW_LOOPBACK=1``: the only mode besides the tests that lets
probes reach 127.0.0.1. The real database, even a PostgreSQL one named in
``DATABASE_URL``, is never touched. Then it starts the stand-ins (a Cloudflare-like
edge and a status page server, from diagnostics/standins), points the targets at them
(the scenario's failure hits the first service; the others answer normally, so
their panels side by side give two verdicts), and runs the site, a worker and
beat through ``manage.py serve``. Ctrl-C stops all of it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_FLAG = "HELPCENTER_DEMO"


@dataclass(frozen=True)
class Scenario:
    web_path: str  # the edge route the web app and API answer our server from
    status_state: str  # the stand-in status page's state
    situation: str  # what the stand-ins do: a fact of the setup, not a claim of the page
    headline: str  # the verdict's headline for a press with nothing ticked, word for word
    also: str  # what else to try (and the headline it leads to, where it changes it)
    browser_path: str = "/ok"  # the edge route the visitor's browser fetches for the web app
    # Our server reaches nothing (every server-side target refuses it); the browser still does.
    impaired: bool = False


TURNED_AWAY = "The service turned our checking server away, so we can't see it from here"

SCENARIOS = {
    "outage": Scenario(
        "/origin/502",
        "outage",
        "The status page reports a major outage with an open incident; the service answers 502.",
        "It's down for everyone, not just you",
        "Tick “The 1020 page” and paste a 1020 page: the block is about you, not them.",
        browser_path="/origin/502",
    ),
    "blocked": Scenario(
        "/block/1020",
        "operational",
        "Cloudflare blocks our server and your browser (1020); the status page says all is well.",
        TURNED_AWAY,
        "Tick “The 1020 page” and press Run checks again: “Blocked by Cloudflare (error 1020): "
        "the block is about your address or network”, with a message for the service's support.",
        browser_path="/block/1020",
    ),
    "server-blocked": Scenario(
        "/block/1020",
        "operational",
        "Cloudflare blocks our server (1020); your browser's request gets the service's page.",
        TURNED_AWAY,
        "Compare with make demo SCENARIO=blocked, where you tick the 1020 page.",
    ),
    "origin": Scenario(
        "/origin/522",
        "operational",
        "Cloudflare answers 522: the service behind it is down.",
        "The service is failing behind Cloudflare (a 5xx error)",
        "Compare with make demo SCENARIO=fine.",
        browser_path="/origin/522",
    ),
    "challenge": Scenario(
        "/challenge",
        "operational",
        "Our server gets a “Just a moment…” challenge.",
        TURNED_AWAY,
        "Tick the endless “Just a moment…” answer to see the challenge-loop fixes.",
        browser_path="/challenge",
    ),
    "impaired": Scenario(
        "/ok",
        "operational",
        "Our server reaches nothing, not even the control sites.",
        "Our checks are impaired right now",
        "Your browser's own checks still run; tick an answer to see what it changes.",
        impaired=True,
    ),
    "fine": Scenario(
        "/ok",
        "operational",
        "Everything answers.",
        "Everything looks fine from here",
        "Tick “A blank page” or “Nothing loads” to see those verdicts.",
    ),
}


def point_targets(scenario: Scenario, edge: Any, status_pages: Any, refused: Any) -> str:
    """Point every check target at the stand-ins; returns the name of the service in trouble.

    The scenario's failure hits the first service only (by order: the starter
    data's first); every other service answers normally, so two services side
    by side give two verdicts. Shared targets (the controls, Cloudflare's status
    page) answer normally. ``refused`` is a RefusedPort: in the impaired scenario
    every server-side target points there, so our server reaches nothing,
    controls included, whichever service is asked about.
    """
    from diagnostics.management.commands.seed_targets import STARTER_TARGETS
    from diagnostics.models import Target
    from helpcenter.models import Service
    from helpcenter.starter import remember_present

    starter = {spec["slug"]: set(spec) - {"slug", "service"} for spec in STARTER_TARGETS}
    troubled = Service.objects.order_by("order", "name").first()
    for target in Target.objects.all():
        hit = troubled is not None and target.service_id == troubled.pk
        fields = _stand_in(target, scenario if hit else SCENARIOS["fine"], edge, status_pages)
        if scenario.impaired:
            fields["url"] = refused.url("/")
        Target.objects.filter(pk=target.pk).update(enabled=True, **fields)
        if target.slug in starter:
            # The stand-in addresses are the demo's, not an editor's: the next
            # `make demo` updates them like any untouched starter row.
            target.refresh_from_db()
            remember_present(target, "target", target.slug, starter[target.slug])
    # The web process starts after this, so it reads the new browser-check origins fresh.
    return troubled.name if troubled else ""


def _stand_in(target: Any, scenario: Scenario, edge: Any, status_pages: Any) -> dict[str, Any]:
    """Where one target points for this scenario, by its kind (not its name: targets are data)."""
    kind = target.kind
    if kind == "status":
        if target.provider == "cloudflare":
            return {"url": status_pages.url("/cloudflare/operational/api/v3/summary")}
        state = scenario.status_state
        return {"url": status_pages.url(f"/statuspage/{state}/api/v2/summary.json"),
                "provider": "statuspage"}  # fmt: skip
    if kind == "control":
        # The starter controls' browser checks would leave the machine: the edge stands in.
        ok = edge.url("/ok")
        return {"url": ok, "browser_check": True, "browser_url": ok}
    fields: dict[str, Any] = {"url": edge.url(scenario.web_path), "expected_statuses": [200]}
    if kind == "web":
        # The edge speaks plain HTTP, so a certificate check against it could only
        # fail: that red row would be no part of any scenario. The visitor's browser
        # checks the stand-in too (its origin joins connect-src).
        fields.update(
            probes=["dns", "http"],
            browser_check=True,
            browser_url=edge.url(scenario.browser_path),
        )
    return fields


class Command(BaseCommand):
    help = "Run the site against loopback stand-ins (separate demo database); Ctrl-C stops all."
    # Django's checks run in the demo's own environment (handle), not before: the first
    # process only starts the demo's, and the checks would open the default database,
    # whose folder a fresh clone does not have until `make run` ("unable to open
    # database file").
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="outage")

    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get(DEMO_FLAG) != "1":
            self._restart_in_demo_environment(options)
        self._check_environment()
        self.check()
        # Imported here: only the demo needs the stand-ins.
        from diagnostics.standins.edge import EdgeServer
        from diagnostics.standins.refused import RefusedPort
        from diagnostics.standins.statuspage import StatusPageServer

        call_command("setup")
        edge = EdgeServer(host="127.0.0.1").start()
        status_pages = StatusPageServer(host="127.0.0.1").start()
        refused = RefusedPort(host="127.0.0.1").start()
        try:
            scenario = SCENARIOS[options["scenario"]]
            troubled = point_targets(scenario, edge, status_pages, refused)
            self._explain(options, scenario, troubled, edge.url("/"), status_pages.base_url)
            # The same process management as `make run`; Ctrl-C returns from it.
            call_command("serve", host=options["host"], port=options["port"])
        finally:
            edge.stop()
            status_pages.stop()
            refused.stop()
            self.stdout.write("Stopped the stand-in edge and status page.")

    def _restart_in_demo_environment(self, options: dict[str, Any]) -> None:
        data_dir = Path(
            os.environ.get("DEMO_DATA_DIR") or Path(settings.BASE_DIR) / "data" / "demo"
        ).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        env = os.environ.copy()
        env.update(
            {
                DEMO_FLAG: "1",
                "DATA_DIR": str(data_dir),
                # Never the real database or Redis: a SQLite file and the embedded broker.
                "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
                "PROBES_ALLOW_LOOPBACK": "1",
                # Share links are absolute: they must lead back to this demo.
                "SITE_URL": f"http://{options['host']}:{options['port']}",
                # Static files straight from the source folders (no collectstatic), and
                # the development key: the demo is never a deployment.
                "DEBUG": "1",
                # History fills quickly enough to see on the status pages.
                "CHECKS_SAMPLE_SECONDS": env.get("CHECKS_SAMPLE_SECONDS") or "60",
                "CHECKS_MIN_INTERVAL_SECONDS": env.get("CHECKS_MIN_INTERVAL_SECONDS") or "60",
            }
        )
        env.pop("REDIS_URL", None)
        argv = [
            sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "demo",
            "--host", options["host"], "--port", str(options["port"]),
            "--scenario", options["scenario"],
        ]  # fmt: skip
        sys.stdout.flush()
        # exec keeps the process id, so Ctrl-C and a test's SIGINT reach the demo itself.
        os.execve(sys.executable, argv, env)  # noqa: S606  (our own interpreter and script)

    def _check_environment(self) -> None:
        if not settings.PROBES_ALLOW_LOOPBACK:
            raise CommandError("The demo needs PROBES_ALLOW_LOOPBACK=1; run it as `make demo`.")
        if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            raise CommandError("The demo runs on its own SQLite file only; run it as `make demo`.")

    @staticmethod
    def _whom(scenario: Scenario, troubled: str) -> str:
        if scenario.impaired:
            return " (our server reaches nothing, whichever service)"
        if scenario == SCENARIOS["fine"]:
            return ""
        return f" (the scenario hits {troubled} only)"

    def _explain(
        self, options: dict[str, Any], scenario: Scenario, troubled: str, edge: str, pages: str
    ) -> None:
        from helpcenter.models import Service

        site = f"http://{options['host']}:{options['port']}/"
        others = "".join(
            f"    make demo SCENARIO={name}\n"
            for name in sorted(SCENARIOS)
            if name != options["scenario"]
        )
        healthy = SCENARIOS["impaired" if scenario.impaired else "fine"]
        services = ""
        for service in Service.objects.order_by("order", "name"):
            its = scenario if service.name == troubled else healthy
            services += (
                f"    {service.name}: {site}checks/?service={service.slug}\n"
                f"      the checks see: {its.situation}\n"
                f"      the panel says: “{its.headline}”\n"
            )
        self.stdout.write(
            self.style.SUCCESS(f"\nDemo mode ({options['scenario']}): open {site}checks/")
        )
        self.stdout.write(
            f"  Data: {settings.DATA_DIR} (separate from your real data)\n"
            f"  Stand-ins: Cloudflare-like edge {edge}, status pages {pages}\n"
            f"  Run checks for each service side by side{self._whom(scenario, troubled)}:\n"
            f"{services}"
            f"  Also try: {scenario.also}\n"
            f"  Status pages: {site}status/ (history fills every minute)\n"
            f"  Other scenarios:\n{others}"
        )
