# The two commands README.md promises: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test demo setup lint lock check-deploy bench clean

setup:
	@bash scripts/bootstrap.sh
	@DEBUG=$${DEBUG:-1} $(PY) manage.py setup

## Set up, then run the site, a Celery worker and Celery beat (Ctrl-C stops all three).
run: setup
	@DEBUG=$${DEBUG:-1} $(PY) manage.py serve --host $(HOST) --port $(PORT)

## Run the site against loopback stand-ins, with its own data in data/demo (Ctrl-C stops all).
## The demo sets itself up (migrate, content, targets) in that folder; SCENARIO=fine etc.
demo:
	@bash scripts/bootstrap.sh
	@DEBUG=1 $(PY) manage.py demo --host $(HOST) --port $(PORT) $(if $(SCENARIO),--scenario $(SCENARIO))

## Set up, then run the whole test suite.
test:
	@bash scripts/bootstrap.sh
	@$(PY) -m pytest $(PYTEST_ARGS)

lint:
	@bash scripts/bootstrap.sh
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy .
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
