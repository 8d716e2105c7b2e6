"""Configuration comes from the environment and fails loudly, in one line, when wrong."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

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
    "SITE_URL": "https://help.example.org",
    "HTTPS": "1",
}
# What the settings print about themselves when asked (see settings_of).
SHOW = (
    "from django.conf import settings as s; "
    "print(s.SECRET_KEY, s.HTTPS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SITE_URL, "
    "s.CHECKS_SAMPLE_SECONDS, s.CHECKS_ROLLUP_KEEP_DAYS, sep='|')"
)


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Start from the machine's environment without the relaxed test values, and
    # with a data folder of its own (settings may read a generated key there).
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in TEST_DEFAULTS}
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    clean["DATA_DIR"] = tempfile.mkdtemp(prefix="settings-")
    clean["DJANGO_SETTINGS_MODULE"] = "helpcenter.settings"
    clean.update(env)
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], env)


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings alone (no Django setup) in a fresh interpreter and run ``code``."""
    return run([sys.executable, "-c", code], env)


def settings_of(**env: str) -> list[str]:
    result = python(SHOW, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_it_passes_the_deploy_check_with_the_env_examples_values() -> None:
    values = {**env_example(), "SECRET_KEY": PRODUCTION["SECRET_KEY"]}
    # Service addresses come from docker-compose.yml; here, this machine's servers.
    values.update(DATABASE_URL=PRODUCTION["DATABASE_URL"], REDIS_URL=PRODUCTION["REDIS_URL"])
    assert values["HTTPS"] == "1" and values["DEBUG"] == "0"
    result = manage("check", "--deploy", "--fail-level", "WARNING", **values)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_one_setting_turns_the_https_behaviour_on_and_off() -> None:
    on = settings_of(**PRODUCTION)
    assert on[1:7] == [
        "True",
        "True",
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO', 'https')",
    ]
    off = settings_of(**{**PRODUCTION, "HTTPS": "0", "SITE_URL": "http://127.0.0.1:8103"})
    assert off[1:7] == ["False", "False", "False", "False", "0", "None"]
    assert off[7] == "http://127.0.0.1:8103"


def test_it_reads_the_secret_key_setup_generated_and_never_writes_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    without_key = {**PRODUCTION, "SECRET_KEY": "", "DATA_DIR": str(data)}
    missing = python(SHOW, **without_key)
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines() == [
        f"Configuration error: SECRET_KEY is not set and {data}/secret-key does not exist "
        "(`python manage.py setup` creates it)"
    ]
    # Importing the settings created nothing, not even the data folder.
    assert not data.exists()
    data.mkdir()
    key = secrets.token_urlsafe(50)
    (data / "secret-key").write_text(key + "\n")
    assert settings_of(**without_key)[0] == key
    # A key in the environment wins over the file.
    assert (
        settings_of(**{**without_key, "SECRET_KEY": PRODUCTION["SECRET_KEY"]})[0]
        == (PRODUCTION["SECRET_KEY"])
    )


def test_importing_the_settings_creates_no_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # The embedded default (no Redis) used to create its broker folders on import.
    env = {"DEBUG": "1", "DATA_DIR": str(data), "REDIS_URL": "", "DATABASE_URL": ""}
    result = python("from django.conf import settings; print(settings.DATA_DIR)", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(data)
    assert not data.exists()


def test_development_links_point_at_loopback_by_default() -> None:
    assert settings_of(DEBUG="1")[7] == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CHECKS_ROLLUP_KEEP_DAYS": "30"},
            "CHECKS_ROLLUP_KEEP_DAYS must be at least 400, not 30",
        ),
        (
            {"CHECKS_SAMPLE_SECONDS": "10"},
            "CHECKS_SAMPLE_SECONDS must be at least 60, not 10",
        ),
        (
            {"CHECKS_MIN_INTERVAL_SECONDS": "600", "CHECKS_SAMPLE_SECONDS": "300"},
            "CHECKS_SAMPLE_SECONDS must be at least 600, not 300",
        ),
        ({"PROBE_TIMEOUT": "0"}, "PROBE_TIMEOUT must be at least 0.1, not 0"),
        ({"PROBE_DEADLINE": "0.5"}, "PROBE_DEADLINE must be at least 5, not 0.5"),
        ({"CHECKS_RATE_PER_VISITOR": "-1"}, "CHECKS_RATE_PER_VISITOR must be at least 1, not -1"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be at least 0, not -1"),
        (
            {"SITE_URL": ""},
            "SITE_URL is not set: the address visitors open, e.g. https://help.example.org",
        ),
        (
            {"SITE_URL": "http://0.0.0.0:8000"},
            "SITE_URL must be an address a browser can open, not 'http://0.0.0.0:8000'",
        ),
        (
            {"SITE_URL": "http://help.example.org"},
            "SITE_URL must start with https: when HTTPS is on, not 'http://help.example.org'",
        ),
    ],
)
def test_it_refuses_out_of_range_values_in_one_line(env: dict[str, str], line: str) -> None:
    # Refused, never quietly raised to the minimum: the operator learns at start.
    result = python(SHOW, **{**PRODUCTION, **env})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"Configuration error: {line}"]


def test_values_at_the_minimum_are_taken_as_written() -> None:
    values = settings_of(**PRODUCTION, CHECKS_SAMPLE_SECONDS="60", CHECKS_ROLLUP_KEEP_DAYS="400")
    assert values[8:] == ["60", "400"]


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
        ({"HTTPS": "maybe"}, "HTTPS"),
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


def test_a_default_follows_the_minimum_another_setting_raises() -> None:
    assert settings_of(**PRODUCTION, CHECKS_MIN_INTERVAL_SECONDS="600")[8] == "600"
