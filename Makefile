# infusync — the two commands of the README, and the developer's others.
# Needs only Python 3.11+ and make: everything else is installed into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export INFUSYNC_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test test-deep lint install install-test migrate seed serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/infusync db upgrade

seed: migrate
	$(BIN)/infusync seed-demo --server-url http://$(HOST):$(PORT)

## make run: install, migrate the embedded SQLite database, load the demo agency, serve;
## the scheduler (jobs: missed visits, silent devices, ...) runs beside it and stops with it.
run: seed
	@echo "infusync on http://$(HOST):$(PORT) — staff console at http://$(HOST):$(PORT)/console/ — API docs at http://$(HOST):$(PORT)/api/docs"
	@$(BIN)/infusync scheduler & scheduler=$$!; \
	trap 'kill -TERM $$scheduler 2>/dev/null; wait $$scheduler' EXIT INT TERM; \
	$(BIN)/infusync serve --host $(HOST) --port $(PORT)

## lint: ruff everywhere; mypy --strict (setup.cfg) on every package.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy server schemas sync offline_store bench

## make test: install the test extras, run ruff and the whole suite (SQLite and PostgreSQL)
## under branch coverage (with the servers and CLIs it starts), print the report and fail
## below setup.cfg's fail_under. A failing test fails it with pytest's own status.
## COVERAGE_ARGS go to the report, e.g. COVERAGE_ARGS=--fail-under=40 on a few files.
## TEST_WORKERS: pytest-xdist processes (auto: one per core; 0 runs in this process).
## worksteal: each worker starts with half of the tests and an idle one takes half of what
## another has left, so none waits at the end while the other runs a queue of slow tests;
## tests are not sent one at a time by the controller as with xdist's default (load).
TEST_WORKERS ?= auto
TEST_DIST ?= worksteal
test: lint
	@rm -f .coverage .coverage.*
	@$(BIN)/coverage run -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) $(PYTEST_ARGS); tests=$$?; \
	$(BIN)/coverage combine --quiet; \
	$(BIN)/coverage report $(COVERAGE_ARGS); report=$$?; \
	if [ $$tests -ne 0 ]; then exit $$tests; fi; exit $$report

## make test-deep: the Hypothesis tests only (-m hypothesis), each drawing its full number
## of examples (INFUSYNC_TEST_DEPTH=deep, tests/depth.py); make test draws a share of them.
test-deep: install-test
	INFUSYNC_TEST_DEPTH=deep $(BIN)/python -m pytest -n $(TEST_WORKERS) -m hypothesis $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage .coverage.*

.PHONY: bench bench-quick

## make bench: push, pull, device-store and console benchmarks (PostgreSQL on 127.0.0.1:5432 and
## SQLite); writes bench/results/latest.json and latest.md, prints the table and the JSON.
bench: install
	$(BIN)/python -m bench

## make bench-quick: the same at small sizes in under a minute; the JSON summary is the
## last line printed (results in bench/results/quick.json and quick.md).
bench-quick: install
	$(BIN)/python -m bench --quick
