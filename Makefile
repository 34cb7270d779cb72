# Two commands: `make serve` runs the server, `make test` runs every check. Both create or update
# the virtual environment first, so a fresh machine with Python 3.11+ needs nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	@$(BIN)/ehfgate artifacts fetch || echo "ehfgate: validation artifacts not installed; the server starts but /readyz stays 503 until 'ehfgate artifacts fetch' succeeds" >&2
	$(BIN)/ehfgate serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/ehfgate artifacts fetch
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/ehfgate artifacts fetch
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
