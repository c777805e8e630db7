# Switchyard: `make run` starts the embedded default, `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# `make run RUN_ARGS=` starts without the demo load.
RUN_ARGS ?= --demo-load
BIN := $(VENV)/bin
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts frontend/tsconfig.json frontend/package.json
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install python frontend services browser lint bench clean

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py standalone $(RUN_ARGS)

test: install services browser lint
	cd frontend && npm test --silent
	$(BIN)/python -m pytest

install: python frontend

python: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

frontend: frontend/dist/.vite/manifest.json

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/dist/.vite/manifest.json: frontend/node_modules/.installed $(FRONTEND_SRC)
	cd frontend && npm run build --silent

# PostgreSQL and Redis are part of the machine; start them if they are down.
services:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 60); do pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 0.5; done; echo "PostgreSQL or Redis did not come up" >&2; exit 1

# Browser tests drive Debian's chromium (Playwright cannot download browsers here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy config designer engine runs
	cd frontend && npm run --silent lint:deps

bench: install services
	$(BIN)/python bench/linear.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/parallel_wide.py
	$(BIN)/python bench/saturation.py
	$(BIN)/python bench/amplification.py
	$(BIN)/python bench/editor.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/faults.py

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var
