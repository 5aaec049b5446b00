# Espresso Care developer commands. Every target bootstraps what it needs (see scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python
COMPONENT := custom_components/espresso_care

.PHONY: all venv browser-deps test test-latest lint typecheck pytest bench demo screenshots clean

all: test

venv:
	@bash scripts/bootstrap.sh requirements_test.txt $(VENV)

## browser tests: Debian's chromium (apt, where root) and the Home Assistant with its web UI (.venv-demo)
browser-deps:
	@bash scripts/browser_deps.sh

## make test: lint, type-check and run the whole test suite with coverage (what CI runs)
test: venv browser-deps
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(COMPONENT)
	$(VENV)/bin/pytest --cov --cov-report=term-missing:skip-covered -q

## make test-latest: the test suite on Home Assistant 2026.10.4 / Python 3.14 in a Debian sid
## chroot (Linux, root; builds the chroot once; browser tests deselected there). Optional: make
## test stays what CI runs.
test-latest:
	@bash scripts/test_latest.sh

lint: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: accuracy and throughput of the shot detector on ../shared/traces, and its cost in HA
bench: venv
	$(PY) scripts/bench.py

## make demo: a real Home Assistant on http://localhost:8123 with a simulated espresso machine plug
demo:
	@bash scripts/demo.sh

## make screenshots: the README's screenshots of the dashboard card (docs/card*.png, docs/stock-cards.png), from the browser test
screenshots: venv browser-deps
	ESPRESSO_CARE_SCREENSHOTS=docs $(VENV)/bin/pytest tests/browser -m browser -q --no-cov

clean:
	rm -rf $(VENV) .venv-demo .mypy_cache .ruff_cache .coverage htmlcov
