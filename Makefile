# The two commands (make run, make test) set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-sqlite lint bench soak screenshots browser services kafka faults fuzz clean

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

# The suite in tiers, fastest first; each tier stops the run if it fails (see tests/conftest.py).
PYTEST := $(BIN)/pytest -q -p no:cacheprovider
# The embedded mode's tiers run with PostgreSQL refused to them: they must not need it.
EMBEDDED := MARKETPLACE_TEST_POSTGRES=off
test: $(STAMP) lint
	@echo "== tier 1: rules and application services"
	$(EMBEDDED) $(PYTEST) -m rules
	@echo "== tier 2: the HTTP API and the pages on SQLite"
	$(EMBEDDED) $(PYTEST) -m "embedded and not rules and not last"
	$(MAKE) --no-print-directory services
	@echo "== tier 3: persistence and delivery on PostgreSQL and Apache Kafka"
	$(PYTEST) -m "not embedded and not last"
	$(MAKE) --no-print-directory browser
	@echo "== tier 4: browser, kill, deployment and fuzz tests"
	$(EMBEDDED) $(PYTEST) -m "last and embedded"
	$(PYTEST) -m "last and not embedded"

# Apache Kafka in the foreground for the distributed mode by hand (KAFKA_PORT, default 9092).
kafka: $(STAMP)
	$(BIN)/python -m tests.kafka_broker run

# The kill tests with five times the kills `make test` makes (MARKETPLACE_KILLS to change).
faults: $(STAMP) services
	MARKETPLACE_KILLS=$${MARKETPLACE_KILLS:-40} $(PYTEST) tests/test_distributed.py -k killing

# Exploratory fuzzing with fresh randomness and more examples (make test's is derandomized).
fuzz: $(STAMP) services
	MARKETPLACE_FUZZ=explore $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py

# Every test of the embedded mode (SQLite, in-process delivery), with PostgreSQL refused.
test-sqlite: $(STAMP) browser
	$(EMBEDDED) $(PYTEST) -m embedded

bench: $(STAMP) services
	$(BIN)/python -m bench

# Ten minutes of mixed load on the distributed mode (SOAK_SECONDS, SOAK_RATE to change).
soak: $(STAMP) services
	$(BIN)/python -m bench.soak

# The screenshots under docs/ (storefront-*.png, backoffice-*.png), taken by the browser tests.
screenshots: $(STAMP) browser
	MARKETPLACE_SCREENSHOTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/test_storefront.py tests/test_backoffice.py tests/test_billing_browser.py tests/test_lists_browser.py tests/test_budgets_browser.py tests/test_quotes_browser.py tests/test_mail_browser.py tests/test_webhooks_browser.py -k sqlite

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
