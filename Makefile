# Two commands for a fresh clone: `make run` serves the forum with the demo, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
# The coverage gate (setup.cfg) holds for the whole suite, so a run narrowed by PYTEST_ARGS skips it.
COVERAGE ?= $(if $(PYTEST_ARGS),0,1)
FLASK := $(BIN)/flask --app forum

.PHONY: run test lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Running needs only the package; the test tools (pytest, ruff, Playwright...) come with `make test`.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(FLASK) db upgrade
	$(FLASK) forum demo
	JOBS_WORKER=1 PORT=$(PORT) WEB_CONCURRENCY=$(WORKERS) $(BIN)/gunicorn -c gunicorn.conf.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -n auto $(if $(filter 1,$(COVERAGE)),--cov --cov-report=term) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .coverage .coverage.*
