# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=


.PHONY: setup specs chromium demo test test-unit test-integration lint format bench docs clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

## Sandbox + real Airflow scheduler scanning two Okta orgs, then the catalog and a summary.
demo: setup
	$(BIN)/saaslens demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Published API descriptions that no Python package ships (GitHub's, from npm), for the contract tests.
specs:
	bash tests/contract/fetch_specs.sh

## Debian's chromium, for the test that renders the compliance report headless (docs/reports.md).
## Installed with apt-get when missing: directly as root (CI and this machine), else through
## passwordless sudo; otherwise it stops and says what to run.
chromium:
	bash tests/e2e/install_chromium.sh

## Everything CI runs: lint, unit, contract, end-to-end and Airflow (scheduler included).
test: lint specs chromium
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/pytest -m "not integration and not scheduler" $(PYTEST_ARGS)

docs: setup
	$(BIN)/saaslens schema-doc --write docs/schema.md
	$(BIN)/saaslens capabilities --format markdown > docs/capabilities.md

clean:
	rm -rf lake .demo .pytest_cache .ruff_cache
