# Espresso Care developer commands. Every target bootstraps what it needs (see scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python
COMPONENT := custom_components/espresso_care

.PHONY: all venv test lint typecheck pytest bench demo clean

all: test

venv:
	@bash scripts/bootstrap.sh requirements_test.txt $(VENV)

## make test: lint, type-check and run the whole test suite with coverage (what CI runs)
test: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(COMPONENT)
	$(VENV)/bin/pytest --cov --cov-report=term-missing:skip-covered -q

lint: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: accuracy and throughput of the shot detector on ../shared/traces, and its cost in HA
bench: venv
	$(PY) scripts/bench.py

## make demo: a real Home Assistant on http://localhost:8123 with a simulated espresso machine plug
demo:
	@bash scripts/demo.sh

clean:
	rm -rf $(VENV) .venv-demo .mypy_cache .ruff_cache .coverage htmlcov
