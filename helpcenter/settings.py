"""Settings for the help center: every knob comes from the environment.

Each variable passes through a small typed helper that stops the process with
one line naming the variable when its value is missing or malformed, so a bad
deploy fails at start instead of at the first request that needs the value.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP

from helpcenter import datadir

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _fail(name: str, problem: str) -> SystemExit:
    # SystemExit with a message prints exactly one line and stops manage.py,
    # gunicorn and celery alike, before anything half-configured runs.
    return SystemExit(f"Configuration error: {name} {problem}")


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise _fail(name, "is not set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise _fail(name, f"must be a boolean like 1/0 or true/false, not {value!r}")


def _at_least(name: str, value: float, minimum: float | None) -> None:
    # Refused rather than raised to the minimum: a value other than the one the
    # operator wrote would be running without anyone knowing. (Defaults are
    # chosen within range, following any minimum another setting raises.)
    if minimum is not None and value < minimum:
        raise _fail(name, f"must be at least {minimum:g}, not {value:g}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise _fail(name, f"must be a whole number, not {value!r}") from None
    _at_least(name, number, minimum)
    return number


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise _fail(name, f"must be a number, not {value!r}") from None
    _at_least(name, number, minimum)
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_float_list(name: str, default: list[float]) -> list[float]:
    """Positive numbers separated by commas, like "0.5,1,2"."""
    items = env_list(name, [])
    if not items:
        return default
    try:
        values = [float(item) for item in items]
    except ValueError:
        values = []
    if len(values) != len(items) or min(values) <= 0:
        raise _fail(name, f"must be positive numbers separated by commas, not {items!r}")
    return values


def env_url(name: str, default: str | None, schemes: tuple[str, ...]) -> str | None:
    value = os.environ.get(name) or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise _fail(name, f"must be a URL starting with {' or '.join(schemes)}:, not {value!r}")
    return value


# --- Core -----------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
# Created by `manage.py setup` (helpcenter/datadir.py), never here: importing
# settings writes nothing to disk.
DATA_DIR = Path(env_str("DATA_DIR", str(datadir.DEFAULT)))

# SECRET_KEY from the environment, else the key setup generated into DATA_DIR.
_DEV_SECRET = "dev-only-insecure-key-never-used-when-DEBUG-is-off"  # noqa: S105
_generated_key = datadir.read_secret_key(DATA_DIR) or (_DEV_SECRET if DEBUG else "")
SECRET_KEY = env_str("SECRET_KEY", _generated_key)
if not SECRET_KEY:
    raise _fail(
        "SECRET_KEY",
        f"is not set and {DATA_DIR / datadir.SECRET_KEY_FILE} does not exist "
        "(`python manage.py setup` creates it)",
    )
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise _fail("SECRET_KEY", "must be at least 50 random characters when DEBUG is off")

# The site is reached over HTTPS through a TLS-terminating proxy: redirect plain
# HTTP, send cookies over HTTPS only, send HSTS, and trust the proxy's
# X-Forwarded-Proto. Off for plain HTTP on loopback (`make run`, the tests).
HTTPS = env_bool("HTTPS", not DEBUG)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise _fail(
            "CSRF_TRUSTED_ORIGINS", f"entries must start with http:// or https://: {_origin!r}"
        )

SITE_NAME = env_str("SITE_NAME", "Access Error Help Center")
# The address visitors open: the base of every absolute link (canonical, og:url,
# sitemap, robots.txt, feed). A guess would put wrong links into shared previews
# and search engines, so only development has a default.
_site_url = env_url("SITE_URL", "http://127.0.0.1:8000" if DEBUG else None, ("http", "https"))
if _site_url is None:
    raise _fail("SITE_URL", "is not set: the address visitors open, e.g. https://help.example.org")
if urlsplit(_site_url).hostname in ("0.0.0.0", "::"):  # noqa: S104
    raise _fail("SITE_URL", f"must be an address a browser can open, not {_site_url!r}")
if HTTPS and not _site_url.startswith("https://"):
    raise _fail("SITE_URL", f"must start with https: when HTTPS is on, not {_site_url!r}")
SITE_URL = _site_url.rstrip("/")
CONTACT_URL = env_str("CONTACT_URL", "https://example.invalid/contact")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # Search fields and indexes (helpcenter.SearchDocument); harmless on SQLite.
    "django.contrib.postgres",
    "django_htmx",
    "reversion",
    "helpcenter",
    "diagnostics",
    # Recovery notices, mail and operator webhooks; wired in by strings only.
    "notices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Status/privacy/demo block (issue 6): after the CSP middleware, so its response
    # pass runs first and adds the browser-check origins to article pages' connect-src.
    "diagnostics.csp.BrowserChecksCSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Replays stored public pages; everything above also runs for a replay, nothing
    # below does: sessions, CSRF, auth and messages are per visitor (pagecache.py).
    "helpcenter.pagecache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "helpcenter.urls"
WSGI_APPLICATION = "helpcenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpcenter.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

_default_db = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
try:
    _db = dj_database_url.parse(env_str("DATABASE_URL", _default_db), conn_max_age=60)
except ValueError as exc:
    raise _fail("DATABASE_URL", f"is not a database URL I understand ({exc})") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker are separate processes sharing one file:
    # WAL lets readers proceed during a write, IMMEDIATE avoids lock upgrades
    # that fail with "database is locked", and the file test database lets the
    # worker see what the tests write.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery --------------------------------------------------

# How long a process trusts the page cache's tag before asking the shared cache
# again, i.e. how late another process may see an edit (pagecache.py). 0: ask
# on every request (the tests, which edit in one process and read in another).
PAGE_CACHE_TAG_SECONDS = env_float("PAGE_CACHE_TAG_SECONDS", 1.0, minimum=0)
# Off: every public page is rendered (the benchmark measures the cost of a miss this way).
PAGE_CACHE = env_bool("PAGE_CACHE", True)

REDIS_URL = env_url("REDIS_URL", None, ("redis", "rediss", "unix"))

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, reusing its client object (see redis_cache.py).
            "BACKEND": "helpcenter.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        # A task unacknowledged this long is redelivered (acks_late + a dead worker).
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=1),
        # Look for such messages every 10 s, not kombu's default of every 10th look (100 s).
        "unacked_restore_throttle": 1,
    }
else:
    # The embedded default: no server to install. The database cache (never
    # the per-process local-memory one) is shared by web and worker processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "helpcenter_cache",
        }
    }
    # The transport creates these folders when it first connects (broker.py).
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, but writing each message atomically (see broker.py).
    CELERY_BROKER_TRANSPORT = "helpcenter.broker:AtomicFilesystemTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": env_float("CELERY_POLLING_INTERVAL", 0.1, minimum=0.01),
    }

CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_IGNORE_RESULT = True  # pages read results from the database
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = "UTC"

# --- Checks -------------------------------------------------------------------

# Probes refuse loopback and private addresses; tests and the demo turn these on.
PROBES_ALLOW_LOOPBACK = env_bool("PROBES_ALLOW_LOOPBACK", False)
PROBES_ALLOW_PRIVATE = env_bool("PROBES_ALLOW_PRIVATE", False)
PROBE_TIMEOUT = env_float("PROBE_TIMEOUT", 5.0, minimum=0.1)
PROBE_DEADLINE = env_float("PROBE_DEADLINE", max(10.0, PROBE_TIMEOUT), minimum=PROBE_TIMEOUT)
PROBE_USER_AGENT = env_str(
    "PROBE_USER_AGENT", f"HelpCenterProbe/0.1 (+{CONTACT_URL}; checks run on visitors' request)"
)
# The region this process's worker probes from; a run fans out to every live region.
CHECKS_REGION = env_str("CHECKS_REGION", "default")
# A run with missing results after this long is shown as delayed, not spun forever.
CHECKS_DELAYED_AFTER = env_float("CHECKS_DELAYED_AFTER", 20.0, minimum=0.1)
# The panel's waits before each poll of a run in flight, in seconds; the last one repeats.
# A poll that finds nothing new is answered from the cache (diagnostics/marks.py).
CHECKS_POLL_SCHEDULE = env_float_list("CHECKS_POLL_SCHEDULE", [0.5, 1.0, 2.0])
# How long a process reuses the verdict rules it loaded; its own edits clear them at once.
CHECKS_RULES_SECONDS = env_float("CHECKS_RULES_SECONDS", 5.0, minimum=0)
CHECKS_SOFT_TIME_LIMIT = env_int("CHECKS_SOFT_TIME_LIMIT", 30, minimum=1)
CHECKS_TIME_LIMIT = env_int(
    "CHECKS_TIME_LIMIT", max(45, CHECKS_SOFT_TIME_LIMIT + 15), minimum=CHECKS_SOFT_TIME_LIMIT
)

# Reports (/checks/<uuid>/) stop working after this many days.
CHECKS_REPORT_DAYS = env_int("CHECKS_REPORT_DAYS", 7, minimum=1)
# Runs make the server send traffic: limited per visitor and for everyone together.
CHECKS_RATE_PER_VISITOR = env_int("CHECKS_RATE_PER_VISITOR", 10, minimum=1)
CHECKS_RATE_VISITOR_WINDOW = env_int("CHECKS_RATE_VISITOR_WINDOW", 600, minimum=1)
CHECKS_RATE_GLOBAL = env_int("CHECKS_RATE_GLOBAL", 300, minimum=1)
CHECKS_RATE_GLOBAL_WINDOW = env_int("CHECKS_RATE_GLOBAL_WINDOW", 60, minimum=1)
# A CA bundle for probes that must trust a private CA (tests, demo).
PROBE_CA_FILE = env_str("PROBE_CA_FILE", "")

# --- Diagnostics engine ---------------------------------------------------------
# Coalescing, politeness, regions and history (diagnostics/coalesce.py, heartbeats.py).

# Within this window every visitor shares one outbound probe per (region, target, probe).
CHECKS_FRESHNESS_SECONDS = env_float("CHECKS_FRESHNESS_SECONDS", 30.0, minimum=0)
# A target that answered 429 without a usable Retry-After is left alone this long;
# a Retry-After beyond the cap is cut to it, so one odd header cannot silence a target.
CHECKS_BACKOFF_DEFAULT_SECONDS = env_int("CHECKS_BACKOFF_DEFAULT_SECONDS", 60, minimum=1)
CHECKS_BACKOFF_MAX_SECONDS = env_int(
    "CHECKS_BACKOFF_MAX_SECONDS",
    max(3600, CHECKS_BACKOFF_DEFAULT_SECONDS),
    minimum=CHECKS_BACKOFF_DEFAULT_SECONDS,
)
# A task waiting for another worker's probe re-queues itself this often (no worker held).
CHECKS_WAIT_COUNTDOWN = env_float("CHECKS_WAIT_COUNTDOWN", 0.25, minimum=0.01)
# Periodic (beat) probes: every CHECKS_SAMPLE_SECONDS, never more often than the minimum.
CHECKS_MIN_INTERVAL_SECONDS = env_int("CHECKS_MIN_INTERVAL_SECONDS", 60, minimum=1)
CHECKS_SAMPLE_SECONDS = env_int(
    "CHECKS_SAMPLE_SECONDS",
    max(300, CHECKS_MIN_INTERVAL_SECONDS),
    minimum=CHECKS_MIN_INTERVAL_SECONDS,
)
CHECKS_SAMPLE_KEEP_DAYS = env_int("CHECKS_SAMPLE_KEEP_DAYS", 14, minimum=1)
# Daily summaries are kept more than a year, so a year of history can always be shown.
CHECKS_ROLLUP_KEEP_DAYS = env_int("CHECKS_ROLLUP_KEEP_DAYS", 400, minimum=400)
# Regions a run may fan out to (comma-separated). Empty: this deployment probes from
# CHECKS_REGION only. Naming them keeps a stray worker from joining production runs.
CHECKS_REGIONS = env_list("CHECKS_REGIONS", [])
# Workers write a heartbeat this often; a region is live while its last one is < 3x old.
HEARTBEAT_SECONDS = env_float("HEARTBEAT_SECONDS", 10.0, minimum=0.1)
# /healthz/ reads the heartbeat through this dotted path (helpcenter never imports diagnostics).
HEALTHZ_HEARTBEAT_READER = "diagnostics.heartbeats.last_seen"
# The local address probes leave from (a per-region egress IP); empty: the OS chooses.
PROBE_SOURCE_ADDRESS = env_str("PROBE_SOURCE_ADDRESS", "")


def _nameserver(entry: str) -> tuple[str, int]:
    host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "53")
    try:
        ipaddress.ip_address(host)
        return host, int(port)
    except ValueError:
        raise _fail("PROBE_NAMESERVERS", f"{entry!r} is not an address[:port]") from None


# DNS servers the probes ask (comma-separated addresses, IPv4 ones may add :port);
# empty: the system resolver. Every address they answer is still checked before use.
PROBE_NAMESERVERS = tuple(_nameserver(entry) for entry in env_list("PROBE_NAMESERVERS", []))
# Celery beat: history samples and the daily prune (task names as strings: helpcenter
# never imports diagnostics).
CELERY_BEAT_SCHEDULE = {
    "sample-targets": {
        "task": "diagnostics.tasks.schedule_samples",
        "schedule": float(CHECKS_SAMPLE_SECONDS),
    },
    "prune-history": {"task": "diagnostics.tasks.prune_history", "schedule": 86400.0},
    # Closes runs a killed worker left open (their messages may be gone with it).
    "close-stale-runs": {"task": "diagnostics.tasks.close_stale_runs", "schedule": 60.0},
    # Deletes addresses past NOTICES_KEEP_DAYS (the privacy page promises it).
    "prune-subscriptions": {"task": "notices.tasks.prune_subscriptions", "schedule": 3600.0},
}
# Entries beat also sends once as it starts (helpcenter/celery.py), so a new site has
# a status within a minute instead of after the first CHECKS_SAMPLE_SECONDS.
BEAT_RUN_AT_START = ["sample-targets"]

# --- Votes, crowd reports and live status ------------------------------------------
# helpcenter/feedback.py, diagnostics/crowd.py and diagnostics/status/live.py read these.

# "Did this fix work?" votes one visitor may cast per hour before getting 429.
VOTE_RATE_PER_HOUR = env_int("VOTE_RATE_PER_HOUR", 30, minimum=1)
# "I have this problem too": one report per visitor per target within this window.
CROWD_REPORT_WINDOW_SECONDS = env_int("CROWD_REPORT_WINDOW_SECONDS", 3600, minimum=1)
# The banner shows when reports in the last CROWD_RECENT_MINUTES exceed
# max(CROWD_MIN_REPORTS, CROWD_FACTOR x the usual count for that hour of day), the usual
# count being the median over the past CROWD_BASELINE_DAYS days (see diagnostics/crowd.py).
CROWD_RECENT_MINUTES = env_int("CROWD_RECENT_MINUTES", 30, minimum=1)
CROWD_MIN_REPORTS = env_int("CROWD_MIN_REPORTS", 5, minimum=1)
CROWD_FACTOR = env_float("CROWD_FACTOR", 3.0, minimum=1.0)
CROWD_BASELINE_DAYS = env_int("CROWD_BASELINE_DAYS", 7, minimum=1)
# A target's state changes only when this many measured samples in a row agree
# (diagnostics/state_changes.py): one flaky answer is not an outage or a recovery.
STATUS_CHANGE_SAMPLES = env_int("STATUS_CHANGE_SAMPLES", 3, minimum=1)
# Fixes (by slug, any article) whose pages show the live status fragment.
LIVE_STATUS_FIX_SLUGS = env_list(
    "LIVE_STATUS_FIX_SLUGS", ["check-service-status", "check-status-page"]
)

# --- Editing and search ---------------------------------------------------------

PREVIEW_LINK_DAYS = env_int("PREVIEW_LINK_DAYS", 3, minimum=1)
# Screenshots editors upload (helpcenter/images.py): the largest file accepted, in megabytes.
# nginx's client_max_body_size for /admin/ (deploy/nginx/helpcenter.conf) must allow it.
IMAGE_UPLOAD_MAX_MB = env_int("IMAGE_UPLOAD_MAX_MB", 8, minimum=1)
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60, minimum=1)
SEARCH_RATE_LIMIT = env_int("SEARCH_RATE_LIMIT", 60, minimum=1)  # searches per client per minute

# --- Mail, recovery notices and operator webhooks (the notices app) -------------

# With EMAIL_HOST set, mail goes out through that SMTP server; without it (the
# embedded default) each message is written to a file under DATA_DIR/mail/, and
# `serve` says so at start, so nothing pretends to have been delivered.
# Django 6.1 reads mail settings from MAILERS (its EMAIL_* settings are deprecated);
# the environment keeps the familiar EMAIL_* names. Lower-case names here are not
# settings, so Django does not warn about them.
_email_host = env_str("EMAIL_HOST", "")
_email_tls = env_bool("EMAIL_USE_TLS", False)
_email_ssl = env_bool("EMAIL_USE_SSL", False)
if _email_tls and _email_ssl:
    raise _fail("EMAIL_USE_SSL", "cannot be on together with EMAIL_USE_TLS; choose one")
MAIL_FILE_PATH = DATA_DIR / "mail"
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env_int("EMAIL_PORT", 587, minimum=1),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": _email_tls,
                "use_ssl": _email_ssl,
                "timeout": env_int("EMAIL_TIMEOUT", 20, minimum=1),
            },
        }
        if _email_host
        else {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(MAIL_FILE_PATH)},
        }
    )
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"noreply@{urlsplit(SITE_URL).hostname}")
# An address is deleted once its notice is sent, or this many days after it was left.
NOTICES_KEEP_DAYS = env_int("NOTICES_KEEP_DAYS", 30, minimum=1)
# "Email me when it's back": sign-ups per visitor per hour, confirmation mails per address per day.
NOTICES_RATE_PER_VISITOR = env_int("NOTICES_RATE_PER_VISITOR", 5, minimum=1)
NOTICES_RATE_PER_ADDRESS = env_int("NOTICES_RATE_PER_ADDRESS", 3, minimum=1)
# Operator webhooks (URLs and secrets are kept in the admin): seconds per attempt.
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 5.0, minimum=0.1)
# A failed mail or webhook is retried after this many seconds, doubling each time (at most 5).
NOTICES_RETRY_SECONDS = env_float("NOTICES_RETRY_SECONDS", 15.0, minimum=0.01)

# --- Client addresses behind proxies ------------------------------------------

# With HTTPS on, the proxy in front must set X-Forwarded-Proto and overwrite any
# value a visitor sent; otherwise a visitor could claim HTTPS (docs/operations.md).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
# Which request header carries the client address (e.g. HTTP_X_FORWARDED_FOR),
# and how many trusted proxies append to it (we read that many from the right).
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "REMOTE_ADDR")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)

# --- Security -------------------------------------------------------------------

SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# htmx reads the CSRF token from its cookie (pages stay cacheable), so no HttpOnly.
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
# Browsers remember HSTS this long; only sent over HTTPS, so only with HTTPS on.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Static files and i18n ------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Generated files (share images, helpcenter/share_images.py), served by the app itself.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# json (helpcenter/logging.py) for log shippers in production; plain for people at a terminal.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise _fail("LOG_FORMAT", f"must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "helpcenter.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
