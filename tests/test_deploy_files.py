"""docker-compose.yml and its companions fit the settings (no Docker engine runs here).

tests/test_compose.py runs the compose file's commands and health checks natively;
these are the quick static checks beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from diagnostics.standins import nginx
from tests.conftest import ROOT, skip_or_fail

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "helpcenter" / "settings.py").read_text()


def settings_variables() -> set[str]:
    return set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', SETTINGS_SOURCE))


def test_it_defines_the_production_services_with_health_checks() -> None:
    services = COMPOSE["services"]
    assert {"web", "worker", "beat", "redis", "postgres"} <= set(services)
    for name in ("web", "worker", "beat", "nginx", "redis", "postgres"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_the_database_lives_on_a_named_volume() -> None:
    assert "pgdata" in COMPOSE["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in COMPOSE["services"]["postgres"]["volumes"]


def test_the_app_services_run_the_commands_the_tests_exercise() -> None:
    services = COMPOSE["services"]
    assert "gunicorn helpcenter.wsgi:application" in services["web"]["command"]
    assert "celery -A helpcenter worker" in services["worker"]["command"]
    assert "checks.default" in services["worker"]["command"]
    assert "celery -A helpcenter beat" in services["beat"]["command"]
    assert "/healthz/" in " ".join(services["web"]["healthcheck"]["test"])


def test_every_variable_it_sets_is_one_the_settings_read() -> None:
    known = settings_variables()
    environment = COMPOSE["services"]["web"]["environment"]
    assert set(environment) <= known
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["REDIS_URL"].startswith("redis://")


def test_the_env_example_names_only_known_variables_and_the_required_ones() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    # POSTGRES_PASSWORD is compose's own; manage.py setup reads the admin's login.
    setup = (ROOT / "helpcenter" / "management" / "commands" / "setup.py").read_text()
    known = settings_variables() | {"POSTGRES_PASSWORD"} | set(re.findall(r'"(ADMIN_\w+)"', setup))
    assert names <= known, names - known
    assert {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"} <= names


def test_the_worker_consumes_the_queue_runs_are_sent_to() -> None:
    from diagnostics.runs import queue_name

    assert queue_name("default") in COMPOSE["services"]["worker"]["command"]


def test_the_readme_names_the_test_command_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make run" in readme
    assert "make test" in ci
    assert Path(ROOT / "Makefile").read_text().count("pytest") >= 1


def test_nginx_fronts_the_site_and_is_the_only_published_port() -> None:
    services = COMPOSE["services"]
    proxy = services["nginx"]
    assert proxy["ports"] == ["80:80"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert "./deploy/nginx/helpcenter.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert not any("ports" in service for name, service in services.items() if name != "nginx")


def test_nginx_serves_the_volume_collectstatic_writes() -> None:
    web, proxy = COMPOSE["services"]["web"], COMPOSE["services"]["nginx"]
    static_root = web["environment"]["STATIC_ROOT"]
    web_mount = next(v for v in web["volumes"] if v.endswith(f":{static_root}"))
    volume = web_mount.split(":")[0]
    assert volume in COMPOSE["volumes"]
    assert f"{volume}:{static_root}:ro" in proxy["volumes"]
    # The static location of the config reads the same folder.
    assert f"alias {static_root.rstrip('/')}/;" in nginx.CONF.read_text()
    # Everything web's shared settings had, it still has (its own list replaces them).
    assert "appdata:/data" in web["volumes"]
    assert web["environment"]["DATABASE_URL"] == COMPOSE["x-app"]["environment"]["DATABASE_URL"]


def test_nginx_accepts_the_config_file(tmp_path: Path) -> None:
    if not nginx.available():
        skip_or_fail(f"nginx is not installed at {nginx.NGINX}")
    proxy = nginx.NginxProcess(upstream_port=9, static_root=tmp_path)
    try:
        result = proxy.test_config()
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_worker_and_beat_wait_for_the_migrations_and_beat_reports_its_health() -> None:
    services = COMPOSE["services"]
    for name in ("worker", "beat"):
        # web migrates before it reports healthy.
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy", name
    assert "celerybeat-schedule" in " ".join(services["beat"]["healthcheck"]["test"])


def test_the_web_health_check_asks_for_a_configured_host() -> None:
    # 127.0.0.1 is not in .env.example's ALLOWED_HOSTS: Django would answer 400.
    check = " ".join(COMPOSE["services"]["web"]["healthcheck"]["test"])
    assert "ALLOWED_HOSTS" in check and "'Host'" in check


def test_nginx_passes_the_proxys_scheme_through() -> None:
    conf = nginx.CONF.read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" not in conf
    assert "proxy_set_header X-Forwarded-Proto $helpcenter_forwarded_proto;" in conf


def test_the_image_never_bakes_in_secrets_or_local_data() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv/", "data/", "node_modules/", "test-artifacts/"} <= ignored
