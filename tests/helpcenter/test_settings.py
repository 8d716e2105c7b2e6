"""Configuration comes from the environment and fails loudly, in one line, when wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.testenv import TEST_DEFAULTS

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "Kq3v9Zr7Lm1Xw5Tb8Nc2Hd6Jf4Gs0Py" * 2,
    # Model checks ask the server its version, so name a database that exists.
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "help.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://help.example.org",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Start from the machine's environment without the relaxed test values.
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in TEST_DEFAULTS}
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    clean["DATA_DIR"] = os.environ["DATA_DIR"]
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_it_passes_the_deploy_check_with_production_values() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"PROBE_TIMEOUT": "soon"}, "PROBE_TIMEOUT"),
        ({"PROBE_NAMESERVERS": "dns.example.org"}, "PROBE_NAMESERVERS"),
        ({"PROBE_NAMESERVERS": "127.0.0.1:domain"}, "PROBE_NAMESERVERS"),
        ({"CSRF_TRUSTED_ORIGINS": "help.example.org"}, "CSRF_TRUSTED_ORIGINS"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, "SECURE_PROXY_SSL_HEADER"),
    ],
)
def test_it_stops_with_one_line_naming_a_bad_variable(env: dict[str, str], variable: str) -> None:
    base = {**PRODUCTION, "SECRET_KEY": PRODUCTION["SECRET_KEY"]}
    result = manage("check", **{**base, **env})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert lines[0].startswith("Configuration error:")
