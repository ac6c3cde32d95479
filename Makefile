# landguard — the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo

.PHONY: demo test install install-test system-test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Debian packages the browser, database and print tests need (installed only when missing).
system-test-deps:
	bash tools/ensure-chromium.sh
	bash tools/ensure-postgis.sh
	bash tools/ensure-office.sh
	bash tools/ensure-qgis.sh

## make demo: generate the sample district, check it, and write maps, exports and the ledger into ./demo
demo: install
	$(BIN)/landguard demo --out $(DEMO) --overwrite

## make test: the whole test suite
test: install-test system-test-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis
