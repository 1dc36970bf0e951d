# The three commands of INTERFACE.md. Everything a fresh Debian machine lacks
# is installed here, so CI (`.ci/run`) needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: install run test system-test-deps screenshot audit clean

# The review page's French catalog, compiled from its .po at install (the .mo files are not committed).
CATALOGS := service/translations/fr/LC_MESSAGES/messages.mo

install: $(VENV)/.installed $(CATALOGS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --editable .
	@touch $@

$(VENV)/.installed-test: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --editable '.[test]'
	@touch $@ $(VENV)/.installed

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -i $< -o $@

run: install
	$(PY) -m service serve

# From Debian: chromium for the review page's browser tests, docker-compose to validate docker-compose.yml,
# npm to fetch axe-core (the accessibility checker the browser tests inject) from the npm registry.
SYSTEM_TEST_PACKAGES := chromium docker-compose npm
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1
system-test-deps:
	@missing=""; for p in $(SYSTEM_TEST_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing" >&2; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

LINTED := service model_training tests benchmarks

$(AXE): | system-test-deps $(VENV)/bin/python
	npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION)

test: $(VENV)/.installed-test $(CATALOGS) system-test-deps $(AXE)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# The README's picture of the review page, taken in Debian's chromium by Playwright (both from the test install).
screenshot: $(VENV)/.installed-test $(CATALOGS) system-test-deps
	$(PY) scripts/review_screenshot.py

# Needs the PyPI JSON API or OSV, which CI's network does not reach; see docs/security.md.
audit: $(VENV)/.installed
	$(PY) -m pip install --quiet pip-audit
	$(PY) -m pip_audit --skip-editable

clean:
	rm -rf $(VENV) var .pytest_cache
