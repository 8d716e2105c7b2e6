# The commands README.md promises: `make run`, `make dev` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address pages link to (canonical, sitemap, feed): one a browser can open,
# so 127.0.0.1 when the server listens on every address. Set SITE_URL to override.
SITE_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
SITE_URL ?= http://$(SITE_HOST):$(PORT)
# `make run` serves the site as visitors see it (DEBUG off: the site's own error
# pages, hashed static files), over plain HTTP on loopback, logging for a person.
RUN_ENV := DEBUG=0 HTTPS=0 SITE_URL=$(SITE_URL) LOG_FORMAT=$${LOG_FORMAT:-plain}
DEV_ENV := DEBUG=1 HTTPS=0 SITE_URL=$(SITE_URL)

.PHONY: run dev test demo setup lint lock check-deploy bench clean

## Install, then migrate, load the starter data, and create the secret key and an admin.
setup:
	@bash scripts/bootstrap.sh
	@$(RUN_ENV) $(PY) manage.py setup

## Set up, then run the site (gunicorn), a Celery worker and Celery beat (Ctrl-C stops all three).
run: setup
	@$(RUN_ENV) $(PY) manage.py serve --host $(HOST) --port $(PORT)

## The same with DEBUG on: Django's runserver, reloading on code changes, debug pages.
dev:
	@bash scripts/bootstrap.sh
	@$(DEV_ENV) $(PY) manage.py setup
	@$(DEV_ENV) $(PY) manage.py serve --dev --host $(HOST) --port $(PORT)

## Run the site against loopback stand-ins, with its own data in data/demo (Ctrl-C stops all).
## The demo sets itself up (migrate, content, targets) in that folder; SCENARIO=fine etc.
demo:
	@bash scripts/bootstrap.sh
	@DEBUG=1 SITE_URL=$(SITE_URL) $(PY) manage.py demo --host $(HOST) --port $(PORT) $(if $(SCENARIO),--scenario $(SCENARIO))

## Set up, then run the whole test suite.
test:
	@bash scripts/bootstrap.sh
	@$(PY) -m pytest $(PYTEST_ARGS)

lint:
	@bash scripts/bootstrap.sh
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@DEBUG=1 $(PY) -m mypy .
	@$(VENV)/bin/lint-imports

## The production stack on loopback, measured (docs/benchmarks.md); DURATION=60 by default.
bench:
	@bash scripts/bootstrap.sh
	@$(PY) bench/stack.py --duration $${DURATION:-60}

## Upgrade every locked dependency to the newest allowed by pyproject.toml (commit uv.lock).
lock:
	@bash scripts/bootstrap.sh
	@$(VENV)/bin/uv lock --upgrade --no-python-downloads --python $(PY)

clean:
	rm -rf $(VENV) data/test
