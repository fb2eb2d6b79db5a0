# One Makefile whose targets everyone uses. `make up` and `make test` work on a
# fresh clone: both run `make install` first, which is idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install up down status test soak lint format clean bench bench-compare

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

up: install
	$(BIN)/microshop up $(ARGS)

down: install
	$(BIN)/microshop down $(ARGS)

status: install
	$(BIN)/microshop status $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(ARGS)

# `make bench ARGS='--scenario browse --concurrency 32'`; see docs/performance.md.
# Closed loops run on wrk where it is installed (apt-get install wrk), else on aiohttp.
bench: install
	$(BIN)/microshop bench $(ARGS)

# The chapter's system (../shared/bench/seed-baseline), then microshop: both rows and
# the targets; ARGS='--db postgres --products 100000' adds those two phases.
bench-compare: install
	$(BIN)/microshop bench compare $(ARGS)

# The order saga under fire, many times over: the orders process SIGKILLed at every
# step boundary (25 rounds each), and 50 concurrent orders for 10 in stock.
SOAK_ROUNDS ?= 25
soak: install
	MICROSHOP_SOAK_ROUNDS=$(SOAK_ROUNDS) $(BIN)/pytest tests/integration/test_saga_crashes.py \
		"tests/integration/test_order_saga.py::test_fifty_concurrent_orders_for_ten_in_stock_approve_exactly_ten" $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .microshop .pytest_cache .ruff_cache
