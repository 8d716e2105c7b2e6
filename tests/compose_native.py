"""docker-compose.yml run natively: each service's own command and health check, on loopback.

No Docker engine runs on these machines, so the compose file is read as a spec
and carried out by hand, with only these substitutions (docs/operations.md):

- service host names become 127.0.0.1, published and internal ports and bind
  addresses free loopback ports (the images' default ports for postgres and redis);
- named volumes, bind mounts' container paths and HOME become temporary folders;
- blank secrets in .env.example become generated values;
- the postgres image becomes a throwaway role and database on this machine's
  PostgreSQL server (as the image's entrypoint makes POSTGRES_USER/POSTGRES_DB),
  the redis image this machine's redis-server running the service's own command,
  the nginx image Debian's nginx with the mounted configuration
  (diagnostics/standins/nginx.py).

Everything else — commands, health checks, environment, dependency order and
conditions — is read from the files, so an edit there is what runs here.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import yaml

from diagnostics.standins import nginx
from tests.conftest import ROOT, free_port

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
VENV_BIN = ROOT / ".venv" / "bin"

# How long a service may take to report healthy. Generous: the web service's first
# start migrates a new database and collects static files on a 2-CPU machine.
HEALTH_DEADLINE = float(os.environ.get("COMPOSE_HEALTH_DEADLINE", "180"))
# Compose's health check timeouts suit a production host; the machines running the
# tests run other work beside them (a shared 2-CPU machine can take 10 s to import
# Django), so each check gets this multiple of its timeout.
HEALTH_TIMEOUT_FACTOR = float(os.environ.get("COMPOSE_HEALTH_TIMEOUT_FACTOR", "3"))
# How often the health checks are run while waiting (compose's own interval is for
# production; polling faster only finds the same state sooner).
HEALTH_POLL = 0.5
# `docker compose stop` sends SIGTERM, waits this long, then kills (compose's default).
DEFAULT_STOP_GRACE = 10.0

# The ports the images listen on inside their containers.
IMAGE_PORTS = {"postgres": 5432, "redis": 6379}
# Blank values in .env.example with these names are secrets to generate.
SECRET_NAME = re.compile(r"(KEY|PASSWORD|SECRET|TOKEN)$")


# --- Reading the files ----------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads an env_file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def example_env() -> dict[str, str]:
    """.env.example as an operator would fill it in: every blank secret generated."""
    values = read_env_file(ENV_EXAMPLE)
    for name, value in values.items():
        if value == "" and SECRET_NAME.search(name):
            values[name] = secrets.token_urlsafe(50)
    return values


_VARIABLE = re.compile(r"\$(?:\$|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, $VAR and $$, applied to every string."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3) or ""
        current = env.get(name)
        if operator and operator.startswith(":") and not current:
            current = None
        if current is None:
            if operator and operator.endswith("?"):
                raise ValueError(f"compose needs {name}: {default}")
            return default if operator else ""
        return current

    return _VARIABLE.sub(substitute, value)


def load_compose(env: dict[str, str]) -> dict[str, Any]:
    # safe_load resolves the `<<: *app` merge keys as compose does.
    spec = interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env)
    assert isinstance(spec, dict)
    return spec


def dockerfile_env() -> dict[str, str]:
    """The image's ENV lines: part of every app container's environment."""
    values: dict[str, str] = {}
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("ENV "):
            for token in shlex.split(line[4:]):
                name, _, value = token.partition("=")
                values[name] = value
    return values


def as_args(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def health_args(test: str | list[str]) -> list[str] | None:
    if isinstance(test, str):
        return ["sh", "-c", test]
    if test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", test[1]]
    if test[0] == "CMD":
        return [str(a) for a in test[1:]]
    raise ValueError(f"unknown healthcheck test form {test[0]!r}")


def duration(text: str | None, default: float) -> float:
    """Compose durations: 10s, 1m30s, 500ms."""
    if not text:
        return default
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"([\d.]+)(ms|us|h|m|s)", str(text))
    if not parts:
        raise ValueError(f"not a compose duration: {text!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition}; the list form means service_started."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def start_order(services: dict[str, Any]) -> list[str]:
    """Services in an order that starts every dependency first (file order otherwise)."""
    order: list[str] = []
    pending = list(services)
    while pending:
        ready = [n for n in pending if set(dependencies(services[n])) <= set(order)]
        if not ready:
            raise ValueError(f"depends_on has a cycle among {pending}")
        order.append(ready[0])
        pending.remove(ready[0])
    return order


def container_ports(service: dict[str, Any]) -> set[int]:
    ports = {int(str(p).split("/")[0]) for p in service.get("expose", [])}
    for published in service.get("ports", []):
        ports.add(int(str(published).split(":")[-1].split("/")[0]))
    return ports


def image_kind(service: dict[str, Any]) -> str | None:
    """Which stand-in an image service gets: postgres, redis or nginx; None for our app."""
    if "build" in service:
        return None
    name = str(service.get("image", "")).split("/")[-1].split(":")[0]
    if name not in ("postgres", "redis", "nginx"):
        raise ValueError(f"no native stand-in for the image {service.get('image')!r}")
    return name


# --- The machine's servers --------------------------------------------------------------


@dataclass
class PostgresServer:
    """A PostgreSQL server the test may create and drop roles and databases on."""

    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        parts = urlsplit(url)
        return cls(
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            parts.username or "postgres",
            parts.password or "",
        )

    def connect(self, dbname: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )


# --- One service, running ----------------------------------------------------------------


@dataclass
class Service:
    name: str
    spec: dict[str, Any]
    env: dict[str, str]
    health: list[str] | None
    cwd: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    proxy: nginx.NginxProcess | None = None
    last_check: str = ""

    @property
    def main(self) -> subprocess.Popen[bytes] | None:
        return self.proxy.process if self.proxy else self.process

    def exited(self) -> int | None:
        return None if self.main is None else self.main.poll()

    def check(self) -> bool:
        """Run the health check itself, in the service's environment, as compose would."""
        assert self.health is not None
        timeout = duration(self.spec["healthcheck"].get("timeout"), 30) * HEALTH_TIMEOUT_FACTOR
        # Its own group: a shell check's children are ended with it on a timeout.
        process = subprocess.Popen(
            self.health,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            self.last_check = f"timed out after {timeout}s"
            return False
        self.last_check = f"exit {process.returncode}: {output[-2000:]}"
        return process.returncode == 0

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class NativeStack:
    """The compose project on this machine. ``up()``/``down()`` may repeat on the same data."""

    env_file: dict[str, str]
    postgres: PostgresServer
    root: Path
    spec: dict[str, Any] = field(init=False)
    services: dict[str, Service] = field(default_factory=dict)
    ports: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    volumes: dict[str, Path] = field(default_factory=dict)
    database: str = field(default_factory=lambda: f"hc_compose_{secrets.token_hex(4)}")
    stopped_by_themselves: dict[str, bool] = field(default_factory=dict)
    # Seconds from the start of ``up()`` until each service first passed its check.
    healthy_after: dict[str, float] = field(default_factory=dict)
    started: float = 0.0

    def __post_init__(self) -> None:
        self.spec = load_compose(self.env_file)
        self.root.mkdir(parents=True, exist_ok=True)
        for name in self.spec.get("volumes") or {}:
            self.volumes[name] = self._folder("volumes", name)

    # -- names, ports and paths ---------------------------------------------------------

    def _folder(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _assign_ports(self) -> None:
        """Fresh loopback ports on every start, as containers get fresh addresses."""
        self.ports.clear()
        for name, service in self.spec["services"].items():
            kind = image_kind(service)
            if kind == "postgres":
                self.ports[(name, IMAGE_PORTS[kind])] = (self.postgres.host, self.postgres.port)
                continue
            wanted = container_ports(service)
            if kind == "redis":
                wanted.add(IMAGE_PORTS[kind])
            for port in wanted:
                self.ports[(name, port)] = ("127.0.0.1", free_port())

    def address(self, service: str, port: int) -> tuple[str, int]:
        if (service, port) not in self.ports:
            raise AssertionError(f"nothing in the compose file makes {service} listen on {port}")
        return self.ports[(service, port)]

    def mounts(self, service: dict[str, Any]) -> dict[str, Path]:
        """Container path -> folder here, for every volume and bind mount of a service."""
        result: dict[str, Path] = {}
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if source in self.volumes:
                result[target] = self.volumes[source]
            else:
                result[target] = (ROOT / source).resolve()
        return result

    def rewrite(self, text: str, service_name: str) -> str:
        """One string of a service with the allowed substitutions applied."""
        service = self.spec["services"][service_name]
        for path, folder in sorted(self.mounts(service).items(), key=lambda i: -len(i[0])):
            text = re.sub(rf"(?<![\w./-]){re.escape(path)}(?=/|$|[\s'\":])", str(folder), text)

        def own_address(match: re.Match[str]) -> str:
            port = int(match.group(2) or 80)
            host, mapped = self.address(service_name, port)
            return f"{match.group(1)}{host}:{mapped}"

        # The service's own address: a bind address (host:port), or a URL to itself
        # without a port (port 80). Before the other services' names are replaced.
        text = re.sub(r"()\b(?:0\.0\.0\.0|127\.0\.0\.1|localhost):(\d+)", own_address, text)
        text = re.sub(r"(https?://)(?:127\.0\.0\.1|localhost)()(?=/)", own_address, text)
        # Another service by its name: a URL value such as DATABASE_URL.
        if "://" in text and " " not in text:
            text = self._rewrite_url(text)
        return text

    def _rewrite_url(self, text: str) -> str:
        parts = urlsplit(text)
        services = self.spec["services"]
        if parts.hostname not in services:
            return text
        target = services[parts.hostname]
        kind = image_kind(target)
        port = parts.port or IMAGE_PORTS.get(kind or "", 80)
        host, mapped = self.address(parts.hostname, port)
        user, path = parts.username or "", parts.path
        if kind == "postgres":
            # The image's POSTGRES_USER owns POSTGRES_DB; here both are the throwaway name.
            environment = target.get("environment", {})
            if user == environment.get("POSTGRES_USER"):
                user = self.database
            if path.lstrip("/") == environment.get("POSTGRES_DB"):
                path = "/" + self.database
        auth = f"{user}:{parts.password}@" if parts.password is not None else f"{user}@"
        netloc = (auth if user else "") + f"{host}:{mapped}"
        return urlunsplit(SplitResult(parts.scheme, netloc, path, parts.query, parts.fragment))

    # -- environments ---------------------------------------------------------------------

    def environment(self, name: str) -> dict[str, str]:
        service = self.spec["services"][name]
        home = self._folder("home", name)
        env = {
            # .venv/bin first: `python`, `gunicorn` and `celery` are the image's /usr/local/bin.
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            # Docker sets it in every container: the container's host name.
            "HOSTNAME": socket.gethostname(),
        }
        if "build" in service:
            env.update(dockerfile_env())
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            # The operator's .env is .env.example filled in: that is the file the test reads.
            assert Path(str(env_file)).name == ".env", env_file
            env.update(self.env_file)
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(str(item).partition("=")[::2] for item in environment)
        env.update({key: "" if v is None else str(v) for key, v in environment.items()})
        return {key: self.rewrite(value, name) for key, value in env.items()}

    # -- the stand-ins for the images ----------------------------------------------------------

    def _create_database(self, service: Service) -> None:
        from psycopg import sql

        password = service.spec.get("environment", {}).get("POSTGRES_PASSWORD", "")
        name = sql.Identifier(self.database)
        with self.postgres.connect() as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", [self.database]
            ).fetchone()
            if exists:
                return  # a restart: the data volume keeps the database
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password))
            )
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, name))

    def drop_database(self) -> None:
        from psycopg import sql

        name = sql.Identifier(self.database)
        with self.postgres.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))

    def _service(self, name: str) -> Service:
        spec = self.spec["services"][name]
        kind = image_kind(spec)
        env = self.environment(name)
        health = health_args(spec["healthcheck"]["test"]) if "healthcheck" in spec else None
        if health is not None:
            health = [self.rewrite(arg, name) for arg in health]
        if kind == "postgres":
            # pg_isready in the container reaches its own server; here the machine's.
            env.update(PGHOST=self.postgres.host, PGPORT=str(self.postgres.port))
            names = {
                spec["environment"].get("POSTGRES_USER"),
                spec["environment"].get("POSTGRES_DB"),
            }
            if health is not None:
                health = [self.database if arg in names else arg for arg in health]
        if kind == "redis" and health is not None and Path(health[0]).name == "redis-cli":
            host, port = self.address(name, IMAGE_PORTS["redis"])
            health = [health[0], "-h", host, "-p", str(port), *health[1:]]
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        return Service(name, spec, env, health, ROOT if kind is None else self.root, log)

    def _start(self, service: Service) -> None:
        kind = image_kind(service.spec)
        if kind == "postgres":
            self._create_database(service)
            return
        if kind == "nginx":
            service.proxy = self._nginx(service).start()
            return
        args = [self.rewrite(arg, service.name) for arg in as_args(service.spec["command"])]
        if kind == "redis":
            host, port = self.address(service.name, IMAGE_PORTS["redis"])
            dir_ = self._folder("redis")
            args += ["--port", str(port), "--bind", host, "--dir", str(dir_)]
        with service.log.open("ab") as log:
            # Its own process group: the container's processes, stopped together.
            service.process = subprocess.Popen(
                args,
                cwd=service.cwd,
                env=service.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _nginx(self, service: Service) -> nginx.NginxProcess:
        """Debian's nginx with the file compose mounts, pointed where compose points it."""
        conf = nginx.CONF.read_text()
        mounts = self.mounts(service.spec)
        mounted = {path: folder for path, folder in mounts.items() if folder == nginx.CONF}
        assert mounted, f"the nginx service no longer mounts {nginx.CONF}"
        assert all(p.startswith("/etc/nginx/conf.d/") and p.endswith(".conf") for p in mounted)
        upstream = re.search(r"server\s+([\w.-]+):(\d+);\s*# native: upstream", conf)
        alias = re.search(r"alias\s+(\S+?)/?;\s*# native: static", conf)
        listen = re.search(r"listen\s+(\d+)\s+default_server;", conf)
        media = re.search(r"alias\s+(\S+?)/images/;\s*# native: media", conf)
        assert upstream and alias and listen and media, "the nginx config's marked lines are gone"
        # What the config reaches must be what compose provides: a service and port,
        # a mounted folder, and the port compose publishes.
        _, upstream_port = self.address(upstream.group(1), int(upstream.group(2)))
        assert alias.group(1) in mounts, f"nginx serves {alias.group(1)}, compose mounts {mounts}"
        assert media.group(1) in mounts, f"nginx serves {media.group(1)}, compose mounts {mounts}"
        _, port = self.address(service.name, int(listen.group(1)))
        return nginx.NginxProcess(
            upstream_port, mounts[alias.group(1)], port=port, media_root=mounts[media.group(1)]
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def up(self) -> None:
        """Start every service after its dependencies meet their conditions."""
        self._assign_ports()
        self.healthy_after.clear()
        self.started = time.monotonic()
        services = self.spec["services"]
        for name in start_order(services):
            for dependency, condition in dependencies(services[name]).items():
                self.wait_for_condition(dependency, condition)
            service = self._service(name)
            self.services[name] = service
            self._start(service)
        for name, service in self.services.items():
            if service.health is not None:
                self.wait_healthy(name)

    def wait_for_condition(self, name: str, condition: str) -> None:
        if condition == "service_healthy":
            self.wait_healthy(name)
        elif condition == "service_completed_successfully":
            self.wait_completed(name)
        elif condition != "service_started":
            raise ValueError(f"unknown depends_on condition {condition!r}")

    def wait_healthy(self, name: str) -> None:
        service = self.services[name]
        if name in self.healthy_after:
            return
        if service.health is None:
            raise AssertionError(f"{name} is depended on as healthy but has no health check")
        deadline = time.monotonic() + HEALTH_DEADLINE
        while not service.check():
            code = service.exited()
            if code is not None:
                raise AssertionError(f"{name} exited with {code}:\n{service.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} not healthy after {HEALTH_DEADLINE}s; last check: "
                    f"{service.last_check}\n{service.log_tail()}"
                )
            time.sleep(HEALTH_POLL)
        self.healthy_after[name] = round(time.monotonic() - self.started, 1)

    def wait_completed(self, name: str) -> None:
        main = self.services[name].main
        assert main is not None, f"{name} runs no process to complete"
        code = main.wait(timeout=HEALTH_DEADLINE)
        assert code == 0, f"{name} exited with {code}:\n{self.services[name].log_tail()}"

    def down(self) -> None:
        """`docker compose stop`: SIGTERM to each main process, dependents first."""
        for name in reversed(list(self.services)):
            service = self.services.pop(name)
            if service.proxy is not None:
                service.proxy.stop()
            elif service.process is not None:
                grace = duration(service.spec.get("stop_grace_period"), DEFAULT_STOP_GRACE)
                self.stopped_by_themselves[name] = _stop(service.process, grace)

    def logs(self) -> Iterator[tuple[str, str]]:
        for name, service in self.services.items():
            yield name, service.log_tail()

    def destroy(self) -> None:
        self.down()
        self.drop_database()
        shutil.rmtree(self.root, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes], grace: float) -> bool:
    """SIGTERM, then after ``grace`` kill the whole group, as Docker ends a container.

    True when the main process and everything it started ended within the grace
    period by themselves.
    """
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    # The main process waits for its own children; anything else left gets the
    # rest of the grace period.
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    by_itself = process.poll() is not None and not _group_alive(process.pid)
    # Whatever is left of the container goes with it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return by_itself


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
