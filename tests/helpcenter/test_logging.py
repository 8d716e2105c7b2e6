"""Structured logs: one JSON object per line, chosen by LOG_FORMAT."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from helpcenter.logging import JsonFormatter
from tests.conftest import ROOT, subprocess_env


def test_it_writes_one_json_object_with_extra_fields_and_the_traceback() -> None:
    record = logging.makeLogRecord(
        {"name": "diagnostics.tasks", "levelname": "WARNING", "levelno": 30,
         "msg": "closed %d runs", "args": (2,), "run_id": "abc", "region": "eu"}
    )  # fmt: skip
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one record, one line, even with a traceback
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "diagnostics.tasks"
    assert entry["message"] == "closed 2 runs"
    assert (entry["run_id"], entry["region"]) == ("abc", "eu")
    assert "RuntimeError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_a_process_started_with_log_format_json_logs_json() -> None:
    code = "import django, logging; django.setup(); logging.getLogger('probe').warning('hi %s', 1)"
    env = subprocess_env(LOG_FORMAT="json", LOG_LEVEL="INFO")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hi 1" and entry["logger"] == "probe"


def test_a_bad_log_format_stops_the_process_with_one_line() -> None:
    env = subprocess_env(LOG_FORMAT="xml")
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Configuration error: LOG_FORMAT must be json or plain" in done.stderr
