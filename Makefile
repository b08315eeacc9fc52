# Lodestar: `make run` starts the site with demo content; `make test` runs every test.
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Flask's variables for the development server: `flask serve` listens there, and without a
# LODESTAR_SITE_URL every command's links (the demo's mails too) point there.
DEV_ENV := LODESTAR_DEVELOPMENT=1 LODESTAR_DEV_SMTP_SINK=true FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(PORT)

.PHONY: run test lint format translations spamscore bench bench-smoke bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(DEV_ENV) $(BIN)/flask serve --check
	$(DEV_ENV) $(BIN)/flask db upgrade
	$(DEV_ENV) $(BIN)/flask demo load
	$(DEV_ENV) $(BIN)/flask serve

# axe-core for the accessibility tests, when npm exists (without it those tests skip).
NODE_DEPS := $(if $(shell command -v npm),node_modules/.installed)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund && touch $@

test: $(VENV)/.dev $(NODE_DEPS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

translations: $(VENV)/.dev
	$(BIN)/python scripts/translations.py

# SpamAssassin's score of every demo mail (needs the Debian package spamassassin).
spamscore: $(VENV)/.runtime
	$(BIN)/python scripts/spamscore.py

# Benchmarks (docs/PERFORMANCE.md): `make bench` runs each at its documented size and prints
# the summary table (needs a quiet machine: minutes, both cores); `make bench-smoke` runs
# each at a tiny size and checks only that it ran and printed its figures (CI runs it).
# bench-deps installs the Debian packages of bench/debian-packages.txt where missing.
bench-deps:
	$(PYTHON) bench/deps.py

bench: bench-deps $(VENV)/.dev
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smoke: bench-deps $(VENV)/.dev
	$(BIN)/python -m bench.run --smoke $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
