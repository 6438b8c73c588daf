# The README's commands. Every target does its own set-up, so a fresh clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KAFKA_PORT ?= 9092
PYTEST_ARGS ?=
# Much of the suite waits on a broker or a child process, so a worker more than the cores pays off.
PYTEST_WORKERS ?= 3

.PHONY: setup system-deps run up down test lint kafka-up kafka-down bench bench-quick clean

setup: system-deps $(STAMP) deploy/local-kafka/.cache/libs

system-deps:
	@scripts/setup-system.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing Python packages into $(VENV) (log: $(VENV)/pip.log)"
	@$(PY) -m pip install -q --upgrade pip > $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@$(PY) -m pip install -q -e '.[test,bench]' >> $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@touch $@

deploy/local-kafka/.cache/libs: deploy/local-kafka/pom.xml | $(STAMP)
	@$(PY) -m services.streaming.local_broker fetch >/dev/null
	@touch $@

run: setup
	@$(VENV)/bin/leadrouter run

up: setup
	@$(VENV)/bin/leadrouter up

down: setup
	@$(VENV)/bin/leadrouter down

test: setup
	@scripts/setup-system.sh promtool:prometheus docker-compose:docker-compose \
		chromium:chromium chromedriver:chromium-driver  # tests/e2e; the console's browser test
	@# Two runs: the suite on $(PYTEST_WORKERS) workers sharing one broker, then the end-to-end tests
	@# alone, because they time what a person sees (`make run` showing assignments within a minute)
	@# and must not share two cores with a dozen other services. Exit 5: PYTEST_ARGS chose none.
	@$(PY) -m pytest -n $(PYTEST_WORKERS) -m "not e2e" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	@$(PY) -m pytest -m e2e $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Everything Python the repository ships: the services, their tests, the benchmarks and the
# examples users copy. mypy --strict (pyproject) covers all but the tests.
LINT_PATHS := services tests bench examples
TYPED_PATHS := services bench examples

lint: setup
	@$(VENV)/bin/ruff check $(LINT_PATHS)
	@$(VENV)/bin/ruff format --check $(LINT_PATHS)
	@$(VENV)/bin/mypy $(TYPED_PATHS)

kafka-up: setup
	@KAFKA_PORT=$(KAFKA_PORT) $(PY) -m services.streaming.local_broker up

kafka-down: setup
	@KAFKA_PORT=$(KAFKA_PORT) $(PY) -m services.streaming.local_broker down

# Benchmarks on their own broker (started on a free port, stopped at the end): see docs/performance.md.
bench: setup
	@$(PY) -m bench

bench-quick: setup
	@$(PY) -m bench --quick

clean:
	rm -rf $(VENV) .run deploy/local-kafka/.cache .pytest_cache .mypy_cache .ruff_cache
