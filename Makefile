# Wayline: two commands do all set-up on a fresh machine with Python 3.10+.
#   make run    creates .venv, installs Wayline, logs example runs to the embedded store, then serves them
#               with the tracking server at http://127.0.0.1:$(PORT) (Ctrl-C stops it)
#   make test   installs the test extras, runs lint, types and the whole suite (browser tests need
#               Debian's chromium: apt-get install chromium)

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
PORT ?= 5000

UI_BUNDLE := src/wayline/server/ui_bundle/.source-hash
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/package.json ui/package-lock.json ui/index.html \
	ui/vite.config.ts ui/tsconfig.json

.PHONY: run test lint typecheck check ui bench bench-server bench-registry bench-models bench-ui clean

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

# The web UI bundle (also built by the install's hatch hook); rebuilt when ui/ changes.
$(UI_BUNDLE): $(VENV)/.installed $(UI_SOURCES)
	$(BIN)/python ui/build_ui.py

ui: $(UI_BUNDLE)

run: $(VENV)/.installed $(UI_BUNDLE)
	$(BIN)/python examples/quickstart.py
	$(BIN)/wayline server --backend-store-uri "$${WAYLINE_TRACKING_URI:-./wayline-data}" --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck $(UI_BUNDLE)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/tracking_bench.py

bench-server: $(VENV)/.installed-test
	$(BIN)/python bench/server_bench.py

bench-registry: $(VENV)/.installed-test
	$(BIN)/python bench/registry_bench.py

bench-models: $(VENV)/.installed-test
	$(BIN)/python bench/models_bench.py

bench-ui: $(VENV)/.installed-test $(UI_BUNDLE)
	$(BIN)/python bench/ui_bench.py

clean:
	rm -rf $(VENV) wayline-data .pytest_cache .mypy_cache .ruff_cache ui/node_modules src/wayline/server/ui_bundle
