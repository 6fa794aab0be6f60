# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=


.PHONY: setup specs chromium audit demo test test-unit test-integration lint format bench bench-ingest docs clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml sandbox/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip install --quiet --no-deps -e sandbox
	@touch $(STAMP)

setup: $(STAMP)

## Sandbox + real Airflow scheduler scanning two Okta orgs, then the catalog and a summary.
demo: setup
	$(BIN)/saaslens demo

## Style, types (mypy over the product package, configured in pyproject.toml; then the sandbox
## distribution on its own, less strictly) and the import layers
## (import-linter's contracts, also in pyproject.toml: docs/architecture.md has the picture).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy -p saaslens_sandbox
	$(BIN)/lint-imports

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

## Known vulnerabilities in the pinned dependencies (pip-audit, in .venv-audit); fails on any found.
audit:
	bash .ci/audit

## Everything CI runs: lint, the dependency audit, unit, contract, security, end-to-end and Airflow
## (scheduler included).
test: lint audit specs chromium
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/pytest -m "not integration and not scheduler" $(PYTEST_ARGS)

## Issue 6's benchmarks on the sandbox (most of an hour): ingest speed against dlt and a bare loop
## (bench-ingest), quota use, DAG parsing, incremental cost and the real scheduler end to end. Each tool
## runs in its own process and writes bench/results/<name>.json; one table at the end.
bench: setup bench-ingest
	$(BIN)/python -m bench

docs: setup
	$(BIN)/saaslens schema-doc --write docs/schema.md
	$(BIN)/saaslens capabilities --format markdown > docs/capabilities.md
	$(BIN)/saaslens posture-rules > docs/posture_rules.md

clean:
	rm -rf lake .demo .pytest_cache .ruff_cache

BENCH_VENV := .venv-bench
INGEST_ARGS ?=

# dlt only ever lives here: a virtualenv of its own, so its dependencies never meet Airflow's.
$(BENCH_VENV)/.installed: bench/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	@touch $@

## Ingest speed and memory (issue 6, item 1): saaslens, dlt's rest_api source and a bare httpx loop pull
## the same sandbox Okta tenant into Parquet, each in its own process (about an hour; INGEST_ARGS to change).
bench-ingest: setup $(BENCH_VENV)/.installed
	$(BIN)/python bench/ingest_compare.py --dlt-python $(BENCH_VENV)/bin/python \
		--out bench/results/ingest_compare.json $(INGEST_ARGS)
