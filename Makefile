# Every target does its own set-up on a fresh machine: a virtual environment in .venv with the
# core and every plugin under plugins/ installed from this repository (editable).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO ?= customerio
# make demo runs Customer.io's demo (the documented default); DEMO=NAME runs another installed one.

.PHONY: demo test lint typecheck unit docs bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("deliverator needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS))
	$(PIP) install -e '.[redis]' $(addprefix -e ,$(PLUGINS))
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/deliverator demo --destination $(DEMO)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

unit: $(VENV)/.test-installed
	$(BIN)/pytest -q

# The documentation site (mkdocs-material + mkdocstrings) in strict mode: a broken link or
# reference fails the build. Output in site/.
docs: $(VENV)/.test-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: lint typecheck unit docs

bench: $(VENV)/.installed
	$(PIP) install -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
