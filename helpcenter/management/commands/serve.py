"""Run the site, a Celery worker and Celery beat together; Ctrl-C stops all three."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def web_command(host: str, port: int, dev: bool) -> list[str]:
    """gunicorn, as the compose file's web service runs it; runserver with --dev."""
    python = sys.executable
    if dev:
        # Reloads on code changes; with DEBUG on, errors show Django's debug page.
        return [python, "manage.py", "runserver", f"{host}:{port}"]
    # Two workers rather than compose's three: a laptop runs the worker and beat too.
    return [
        python, "-m", "gunicorn", "helpcenter.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", "2", "--threads", "2", "--preload",
        "--access-logfile", "-",
    ]  # fmt: skip


def mail_line() -> str:
    """Where mail goes, said at start so nobody waits for mail that only reached a file."""
    mailer: dict[str, Any] = settings.MAILERS["default"]
    options: dict[str, Any] = mailer.get("OPTIONS", {})
    backend = str(mailer["BACKEND"])
    if backend.endswith("smtp.EmailBackend"):
        return f"Mail is sent through SMTP at {options['host']}:{options['port']}."
    if "file_path" not in options:
        return f"Mail goes to {backend}."
    return (
        f"Mail is not sent: each message is written to a file in {options['file_path']}/ "
        "(set EMAIL_HOST to send it)."
    )


class Command(BaseCommand):
    help = "Start the web server, a Celery worker and Celery beat, and stop them together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--dev", action="store_true", help="Django's runserver (autoreload) instead of gunicorn"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        data = Path(settings.DATA_DIR)
        queues = f"default,checks.{settings.CHECKS_REGION}"
        commands = {
            "web": web_command(options["host"], options["port"], options["dev"]),
            "worker": [python, "-m", "celery", "-A", "helpcenter", "worker", "-Q", queues,
                       "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO",
                       "--without-gossip", "--without-mingle"],
            "beat": [python, "-m", "celery", "-A", "helpcenter", "beat", "--loglevel", "INFO",
                     "--schedule", str(data / "celerybeat-schedule")],
        }  # fmt: skip
        # Built from our own settings above, never from request input.
        processes = {
            # Each in a session of its own, stopped as a group: runserver's
            # autoreloader and gunicorn's master both have children of their own.
            name: subprocess.Popen(cmd, env=os.environ.copy(), start_new_session=True)  # noqa: S603
            for name, cmd in commands.items()
        }
        host = "127.0.0.1" if options["host"] in ("0.0.0.0", "::") else options["host"]  # noqa: S104
        url = f"http://{host}:{options['port']}/"
        self.stdout.write(
            self.style.SUCCESS(f"\nHelp center running at {url}  (admin: {url}admin/)")
        )
        self.stdout.write("Worker and beat are running too. Press Ctrl-C to stop everything.")
        self.stdout.write(mail_line() + "\n")

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with code {process.returncode}; stopping."
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(processes)

    def _stop_all(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        for process in processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.stdout.write("Stopped the web server, the worker and beat.")


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # The group shares the leader's id; a group whose processes all exited is gone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
