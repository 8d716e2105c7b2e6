"""The data folder (``DATA_DIR``): what setup puts there before anything else runs.

Settings only read from it. Creating the folder and the generated secret key is
the job of ``manage.py setup``, which calls ``prepare`` before Django loads the
settings (with ``DEBUG`` off they need the key that this makes). Plain Python:
nothing here imports Django.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "data"
SECRET_KEY_FILE = "secret-key"  # noqa: S105  (a file name, not a key)


def location() -> Path:
    """The folder the settings will use: ``DATA_DIR``, or ``data/`` beside manage.py."""
    return Path(os.environ.get("DATA_DIR") or DEFAULT)


def read_secret_key(data_dir: Path) -> str | None:
    try:
        return (data_dir / SECRET_KEY_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def prepare(data_dir: Path) -> list[str]:
    """Create the data folder and, unless SECRET_KEY is given, a key kept in it.

    Safe to run again: an existing key is never replaced, since that would sign
    every visitor out and break every signed preview link. Returns what it made.
    """
    made = []
    if not data_dir.is_dir():
        data_dir.mkdir(parents=True)
        made.append(f"the data folder {data_dir}")
    key_file = data_dir / SECRET_KEY_FILE
    if not os.environ.get("SECRET_KEY") and not key_file.exists():
        # Created readable by the owner only, then filled: never briefly world-readable.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50) + "\n")
        made.append(f"a secret key in {key_file}")
    return made
