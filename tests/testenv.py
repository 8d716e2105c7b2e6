"""Loaded by pytest before Django (``-p tests.testenv`` in pyproject): test defaults.

Deadlines and windows are settings, and short here, so tests wait for state
rather than for the clock. Values already in the environment win (CI sets
DATABASE_URL and REDIS_URL for its PostgreSQL + Redis run).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEST_DEFAULTS = {
    "DEBUG": "0",
    "SECRET_KEY": "test-secret-key-" + "x7Qp9Lm2Vw4Rt6Yz8Nb3Kc5Hd1Jf0Gs" * 2,
    "DATA_DIR": str(ROOT / "data" / "test"),
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    # Plain HTTP on loopback, as `make run` serves it.
    "HTTPS": "0",
    "SITE_URL": "http://testserver",
    "PROBES_ALLOW_LOOPBACK": "1",
    "PROBE_TIMEOUT": "1",
    "PROBE_DEADLINE": "3",
    "CHECKS_DELAYED_AFTER": "8",
    "CHECKS_POLL_SCHEDULE": "0.1,0.2,0.3",
    # Tests edit rules in one process and read verdicts from another at once.
    "CHECKS_RULES_SECONDS": "0",
    "CELERY_POLLING_INTERVAL": "0.05",
    "LOG_LEVEL": "WARNING",
    # Tests edit in one process and read pages from another at once.
    "PAGE_CACHE_TAG_SECONDS": "0",
    # Failed mail and webhooks retry after this (doubling): short, so tests wait for state.
    "NOTICES_RETRY_SECONDS": "0.05",
}

for _name, _value in TEST_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
# What `manage.py setup` would create (settings only read it): the SQLite test
# database lives here.
Path(os.environ["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
