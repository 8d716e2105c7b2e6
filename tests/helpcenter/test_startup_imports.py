"""What a web worker carries from the start: every module it imports stays in
its memory for its whole life (the benchmark's worker RSS target is 80 MB)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loads the site as gunicorn does (settings, apps, the URL map with every view
# module), answers one request through the middleware (a 404 needs no tables),
# then lists what was imported.
SCRIPT = """
import sys
import django
django.setup()
from django.test import Client
import helpcenter.urls  # noqa: F401  every view module
assert Client().get("/no-such-page/").status_code == 404
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _imported_at_start(tmp_path: Path) -> set[str]:
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "helpcenter.settings",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = set(result.stdout.split())
    assert "django" in imported  # the script really loaded the site
    return imported


def test_a_web_worker_does_not_import_pillow_until_it_draws_a_card(tmp_path: Path) -> None:
    assert "PIL" not in _imported_at_start(tmp_path)


def test_a_web_worker_does_not_import_httpx_which_only_the_celery_worker_sends_with(
    tmp_path: Path,
) -> None:
    # notices.tasks is imported by the web to queue webhooks; it must not bring the
    # HTTP client (and the rich and pygments its command line loads) along.
    imported = _imported_at_start(tmp_path)
    assert "notices" in imported  # the module that used to import it is loaded
    assert not {"httpx", "httpcore", "rich"} & imported
