#!/usr/bin/env bash
# Find a Python 3.12+ interpreter, make the virtual environment and install the
# project into it from uv.lock (exact versions, hashes checked). Quick when
# nothing changed: the stamp file holds a digest of uv.lock, pyproject.toml and
# this script (so a change to how it installs reaches existing environments).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
STAMP="$VENV/.installed"
# uv installs from the lock; this exact version is the one the lock was made with.
UV_VERSION=0.13.9
WANT=$(cat uv.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi

good_enough() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.14 python3.13 python3.12)
  if command -v pyenv >/dev/null 2>&1; then
    local root
    root=$(pyenv root)
    for v in $(ls -1 "$root/versions" 2>/dev/null | sort -rV); do
      candidates+=("$root/versions/$v/bin/python3")
    done
  fi
  candidates+=(python3)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && good_enough "$c"; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! good_enough "$VENV/bin/python"; then
  if ! PY=$(find_python); then
    echo "No Python 3.12 or newer found (Django 6.1 needs it)." >&2
    echo "Install one (e.g. 'apt-get install python3.12', 'pyenv install 3.13', or python.org)," >&2
    echo "or point PYTHON at it: make run PYTHON=/path/to/python3.12" >&2
    exit 1
  fi
  echo "Creating the Python environment in $VENV with $PY ($("$PY" --version))…"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

# Said before each slow step: a first run installs for about a minute, silently otherwise.
echo "Installing the installer (uv $UV_VERSION)…"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
echo "Installing locked packages from uv.lock (first time: about a minute)…"
# --locked: fail if pyproject.toml changed without `make lock` rather than resolve anew.
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as here and in the image) every
# process would otherwise compile each library from source at start, and the compiler's
# freed memory stays in a gunicorn worker's RSS (~14 MB, docs/benchmarks.md).
UV_PROJECT_ENVIRONMENT="$VENV" "$VENV/bin/uv" sync --quiet --locked --extra dev \
  --compile-bytecode --no-python-downloads --python "$VENV/bin/python"
echo "$WANT" >"$STAMP"
echo "Python environment ready."
