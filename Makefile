# The two commands of the README: `make dev` runs the engine, `make test` runs the whole suite.
# Both build .venv from hashed lock files first, so a fresh machine needs only python3 and make:
# `make dev` installs the runtime lock only (requirements.lock, what the container image holds);
# `make test` adds the test lock (requirements-test.lock: the same pins plus the test tools).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CHROMIUM ?= /usr/bin/chromium
export OSOM_CHROMIUM := $(CHROMIUM)
# The record store's PostgreSQL tests start their own server from these binaries (Debian's).
PG_BIN ?= $(firstword $(wildcard /usr/lib/postgresql/*/bin) /usr/lib/postgresql/15/bin)
PG_CTL := $(PG_BIN)/pg_ctl
export OSOM_PG_BIN := $(PG_BIN)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: dev test lint bench reliability lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	touch $(TEST_STAMP)

# Ports on a shared machine: `make dev PORT=7300 UI_PORT=8300 API_PORT=8100` (also HTTP_PORT,
# METRICS_PORT); each one left unset keeps `osom dev`'s default.
DEV_PORTS = $(if $(PORT),--port $(PORT)) $(if $(UI_PORT),--ui-port $(UI_PORT)) \
	$(if $(API_PORT),--api-port $(API_PORT)) $(if $(HTTP_PORT),--http-port $(HTTP_PORT)) \
	$(if $(METRICS_PORT),--metrics-port $(METRICS_PORT))

dev: $(STAMP)
	$(BIN)/osom dev $(strip $(DEV_PORTS))

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(CHROMIUM) $(PG_CTL)
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser test drives Debian's Chromium (no browser download): install it where it is missing
# and apt-get exists; elsewhere install a Chromium yourself and point OSOM_CHROMIUM at it.
$(CHROMIUM):
	@if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "no apt-get: install Chromium and set CHROMIUM=/path/to/it for the browser test"; fi

# PostgreSQL's server binaries (Debian's postgresql package) where they are missing; the tests
# start and stop their own server in a temporary folder, never one left running.
$(PG_CTL):
	@if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else echo "no apt-get: install PostgreSQL's server and set PG_BIN=/path/to/its/bin"; fi

# Throughput of establishment cases beside a bare reference workflow, on a private dev server.
bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.throughput $(BENCH_ARGS)

# Worker SIGKILLs and dev-server restarts among valid and invalid commands, on a private server.
reliability: $(TEST_STAMP)
	$(BIN)/python -m osom.reliability $(RELIABILITY_ARGS)

# Refresh both locks after changing dependencies in pyproject.toml (the test lock is constrained
# by the runtime lock, so the two agree on every package they share).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test -c requirements.lock --generate-hashes \
	  --python-version 3.11 -o requirements-test.lock

clean:
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
