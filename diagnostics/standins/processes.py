"""Stopping the real processes tests and benchmarks start (gunicorn, Celery, nginx)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_process(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """Ask a process to stop (SIGTERM), and kill it if it has not after ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
