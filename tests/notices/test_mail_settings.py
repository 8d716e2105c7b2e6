"""Mail settings from the environment: SMTP with EMAIL_HOST, else files under DATA_DIR."""

from __future__ import annotations

import json

from tests.helpcenter.test_settings import manage, python

SHOW = (
    "import json, helpcenter.settings as s; "
    "print(json.dumps([s.MAILERS['default'], s.DEFAULT_FROM_EMAIL, str(s.DATA_DIR)]))"
)


def test_without_email_host_mail_is_written_to_files_under_the_data_folder() -> None:
    result = python(SHOW, DEBUG="1")
    assert result.returncode == 0, result.stderr
    mailer, sender, data_dir = json.loads(result.stdout)
    assert mailer == {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": f"{data_dir}/mail"},
    }
    assert sender == "noreply@127.0.0.1"


def test_email_host_turns_on_smtp_with_the_rest_of_its_settings() -> None:
    result = python(
        SHOW,
        DEBUG="1",
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="pw",
        EMAIL_USE_TLS="1",
        DEFAULT_FROM_EMAIL="help@example.org",
    )
    assert result.returncode == 0, result.stderr
    mailer, sender, _ = json.loads(result.stdout)
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "smtp.example.org",
        "port": 2525,
        "username": "mailer",
        "password": "pw",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 20,
    }
    assert sender == "help@example.org"


def test_tls_and_ssl_together_stop_the_process_in_one_line() -> None:
    result = manage(
        "check", DEBUG="1", EMAIL_HOST="smtp.example.org", EMAIL_USE_TLS="1", EMAIL_USE_SSL="1"
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "EMAIL_USE_SSL" in lines[0], result.stderr
