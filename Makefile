# The two commands (make run, make test) set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-sqlite lint bench soak screenshots browser services kafka fuzz clean

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

# The browser tests drive Debian's Chromium; installed here when the machine lacks it.
browser:
	test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  { echo "error: the browser tests need Debian's chromium (apt-get install chromium, as root)" >&2; exit 1; }

# What the tests run against, set up on a machine that starts with nothing: PostgreSQL
# (Debian's, installed and started when missing) and Apache Kafka's jars (Maven Central).
services: $(STAMP)
	bash ops/postgres.sh
	command -v mvn >/dev/null && command -v java >/dev/null || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven; } || \
	  { echo "error: Apache Kafka needs Java and Maven (apt-get install maven)" >&2; exit 1; }
	$(BIN)/python -m tests.kafka_broker fetch

# test-sqlite runs the embedded mode's tests first; the rest of the suite then runs once.
test: $(STAMP) browser services lint test-sqlite
	$(BIN)/pytest -k "$(NOT_SQLITE_ONLY)"

# Apache Kafka in the foreground for the distributed mode by hand (KAFKA_PORT, default 9092).
kafka: $(STAMP)
	$(BIN)/python -m tests.kafka_broker fetch
	$(BIN)/python -m tests.kafka_broker run

# Exploratory fuzzing with fresh randomness and more examples (make test's is derandomized).
fuzz: $(STAMP) services
	MARKETPLACE_FUZZ=explore $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py

# The embedded mode's tests, with PostgreSQL refused to them: they must not need it.
SQLITE_ONLY := sqlite and not postgres and not kafka
NOT_SQLITE_ONLY := not ($(SQLITE_ONLY))
test-sqlite: $(STAMP) browser
	MARKETPLACE_TEST_POSTGRES=off $(BIN)/pytest -q -p no:cacheprovider -k "$(SQLITE_ONLY)"

bench: $(STAMP) services
	$(BIN)/python -m bench

# Ten minutes of mixed load on the distributed mode (SOAK_SECONDS, SOAK_RATE to change).
soak: $(STAMP) services
	$(BIN)/python -m bench.soak

# The screenshots under docs/ (storefront-*.png, backoffice-*.png), taken by the browser tests.
screenshots: $(STAMP) browser
	MARKETPLACE_SCREENSHOTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/test_storefront.py tests/test_backoffice.py tests/test_money_browser.py tests/test_lists_browser.py tests/test_budgets_browser.py tests/test_quotes_browser.py -k sqlite

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
