# The two commands (make run, make test) set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-sqlite lint bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/marketplace serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) lint test-sqlite
	$(BIN)/pytest

# The embedded mode's tests, with PostgreSQL refused to them: they must not need it.
test-sqlite: $(STAMP)
	MARKETPLACE_TEST_POSTGRES=off $(BIN)/pytest -q -p no:cacheprovider -k "sqlite and not postgres and not kafka"

bench: $(STAMP)
	$(BIN)/python -m bench

# Ten minutes of mixed load on the distributed mode (SOAK_SECONDS, SOAK_RATE to change).
soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
