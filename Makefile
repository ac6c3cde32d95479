# landguard — the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo

.PHONY: demo test install install-test system-test-deps qgis-plugin clean

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

## make qgis-plugin: $(DIST)/landguard-qgis-plugin.zip, for QGIS's plugin manager (Install from ZIP)
DIST ?= dist
qgis-plugin:
	mkdir -p $(DIST)
	rm -f $(DIST)/landguard-qgis-plugin.zip
	$(PYTHON) -c "import sys, zipfile, pathlib; z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED); [z.write(p, p.relative_to('qgis_plugin').as_posix()) for p in sorted(pathlib.Path('qgis_plugin/landguard').rglob('*')) if p.is_file() and '__pycache__' not in p.parts]; z.close()" $(DIST)/landguard-qgis-plugin.zip

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis
