# The two commands of the README: `make dev` runs the engine, `make test` runs the whole suite.
# Both build .venv from the hashed lock file first, so a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
export OSOM_CHROMIUM := $(CHROMIUM)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: dev test lint bench reliability lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Ports on a shared machine: `make dev PORT=7300 UI_PORT=8300 API_PORT=8100` (also HTTP_PORT,
# METRICS_PORT); each one left unset keeps `osom dev`'s default.
DEV_PORTS = $(if $(PORT),--port $(PORT)) $(if $(UI_PORT),--ui-port $(UI_PORT)) \
	$(if $(API_PORT),--api-port $(API_PORT)) $(if $(HTTP_PORT),--http-port $(HTTP_PORT)) \
	$(if $(METRICS_PORT),--metrics-port $(METRICS_PORT))

dev: $(STAMP)
	$(BIN)/osom dev $(strip $(DEV_PORTS))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser test drives Debian's Chromium (no browser download): install it where it is missing
# and apt-get exists; elsewhere install a Chromium yourself and point OSOM_CHROMIUM at it.
$(CHROMIUM):
	@if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "no apt-get: install Chromium and set CHROMIUM=/path/to/it for the browser test"; fi

# Throughput of establishment cases beside a bare reference workflow, on a private dev server.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.throughput $(BENCH_ARGS)

# Worker SIGKILLs and dev-server restarts among valid and invalid commands, on a private server.
reliability: $(STAMP)
	$(BIN)/python -m osom.reliability $(RELIABILITY_ARGS)

# Refresh the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
