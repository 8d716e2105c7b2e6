"""Run the site, a Celery worker and Celery beat together; Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Start the web server, a Celery worker and Celery beat, and stop them together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        data = Path(settings.DATA_DIR)
        queues = f"default,checks.{settings.CHECKS_REGION}"
        commands = {
            "web": [python, "manage.py", "runserver", "--noreload",
                    f"{options['host']}:{options['port']}"],
            "worker": [python, "-m", "celery", "-A", "helpcenter", "worker", "-Q", queues,
                       "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO",
                       "--without-gossip", "--without-mingle"],
            "beat": [python, "-m", "celery", "-A", "helpcenter", "beat", "--loglevel", "INFO",
                     "--schedule", str(data / "celerybeat-schedule")],
        }  # fmt: skip
        # Built from our own settings above, never from request input.
        processes = {
            name: subprocess.Popen(cmd, env=os.environ.copy())  # noqa: S603
            for name, cmd in commands.items()
        }
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(
            self.style.SUCCESS(f"\nHelp center running at {url}  (admin: {url}admin/)")
        )
        self.stdout.write("Worker and beat are running too. Press Ctrl-C to stop everything.\n")

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
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped the web server, the worker and beat.")
