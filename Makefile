# Hukou — two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
HUKOU := $(VENV)/bin/hukou

.PHONY: help demo test install assets system-deps postgres lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

demo: install assets ## set up the demo city, accounts and agreements; serve http://127.0.0.1:8000
	$(HUKOU) demo

test: install assets system-deps postgres lint ## install what tests need and run the whole suite
	$(VENV)/bin/python -m pytest

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.synced ## the Python environment, exactly as uv.lock pins it

assets: ## the console's htmx and ECharts, from npm (package-lock.json) into its static folder
	bash scripts/assets.sh

system-deps: ## Debian packages for tests: Chromium, CJK fonts, PostgreSQL client
	bash scripts/system-deps.sh

postgres: ## start the local PostgreSQL server if it is down
	bash scripts/start-postgres.sh

lint: install ## ruff (lint + format check) and mypy --strict
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: install ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

bench: install ## run the benchmarks (figures go to docs/benchmarks.md by hand)
	$(VENV)/bin/python bench/standards.py
	$(VENV)/bin/python bench/synth.py

clean: ## remove the environments and local data
	rm -rf $(VENV) $(TOOLS) var test-results node_modules src/hukou/web/static/vendor
