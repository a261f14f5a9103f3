# Involve: `make run` serves the app with demo data; `make test` installs everything and tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := involve
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/involve_test
INVOLVE_TEST_DATABASE_URL ?= $(PG_TEST_URL)

.PHONY: run test install install-test lint test-sqlite test-postgres browser worker clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt pins every package to the versions tested together (see README).
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	@echo "Serving on http://127.0.0.1:5000 (the background worker runs beside it)"
	$(BIN)/flask worker & trap "kill $$! 2>/dev/null" EXIT; $(BIN)/flask run --host 127.0.0.1 --port 5000

worker: install
	$(BIN)/flask worker

# Debian's chromium for the browser journeys; never a browser download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

lint: install-test
	$(BIN)/ruff check .

test-sqlite: install-test browser
	env -u INVOLVE_TEST_DATABASE_URL $(BIN)/pytest -q

test-postgres: install-test
	@if $(BIN)/python scripts/ensure_test_database.py "$(INVOLVE_TEST_DATABASE_URL)"; then \
	  INVOLVE_TEST_DATABASE_URL="$(INVOLVE_TEST_DATABASE_URL)" $(BIN)/pytest -q -m "not e2e"; \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL is required under CI=true but is not reachable" >&2; exit 1; \
	else echo "PostgreSQL is not reachable: skipping the PostgreSQL run"; fi

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) *.egg-info
