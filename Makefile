# Wayline: two commands do all set-up on a fresh machine with Python 3.10+.
#   make run    creates .venv, installs Wayline, logs example runs to the embedded store, then serves them
#               with the tracking server at http://127.0.0.1:$(PORT) (Ctrl-C stops it)
#   make test   installs the test extras, runs lint, types and the whole suite

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
PORT ?= 5000

.PHONY: run test lint typecheck check bench bench-server bench-registry bench-models clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Wayline needs Python 3.10 or newer on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/python examples/quickstart.py
	$(BIN)/wayline server --backend-store-uri "$${WAYLINE_TRACKING_URI:-./wayline-data}" --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/tracking_bench.py

bench-server: $(VENV)/.installed-test
	$(BIN)/python bench/server_bench.py

bench-registry: $(VENV)/.installed-test
	$(BIN)/python bench/registry_bench.py

bench-models: $(VENV)/.installed-test
	$(BIN)/python bench/models_bench.py

clean:
	rm -rf $(VENV) wayline-data .pytest_cache .mypy_cache .ruff_cache
