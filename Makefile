# Two commands do all the set-up on a fresh machine:
#   make run   — the monthly batch on the demo group (November 2026), its DSN and what it owes, then where to look
#   make test  — the whole test suite (installs what it needs, system packages included)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export BEANCOUNT_DISABLE_LOAD_CACHE := 1

.PHONY: run test test-fast lint typecheck check fava bench demo system-deps clean

# The independent DSN validator (dsn-tools needs Python >= 3.12): its own environment, used by the tests.
DSN_PYTHON := $(shell PYENV_VERSION=3.12.1 pyenv which python 2>/dev/null || command -v python3.12 || command -v python3.13)
DSN_VENV := .venv-dsn

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(DSN_VENV)/bin/.installed: requirements-dsn-tools.txt
	@test -n "$(DSN_PYTHON)" || { echo "Python 3.12 or later is needed for the DSN check (dsn-tools)"; exit 1; }
	$(DSN_PYTHON) -m venv $(DSN_VENV)
	$(DSN_VENV)/bin/pip install -q -r requirements-dsn-tools.txt
	touch $@

system-deps:
	@bash scripts/system-deps.sh

run: $(BIN)/.installed system-deps
	$(BIN)/eage run 2026-11
	$(BIN)/eage dsn 2026-11
	$(BIN)/eage charges 2026-11
	@echo
	@echo "Look at:"
	@echo "  reports/invoices/2026/FAC-2026-*.pdf          the members' invoices (Factur-X: .xml beside each)"
	@echo "  reports/2026-11/invoices.csv                  the month's invoice register"
	@echo "  reports/payslips/2026/                        the staff payslips"
	@echo "  ledger/generated/2026/2026-11-*.beancount     the payroll journal and the re-invoicing entries"
	@echo "  reports/dsn/2026-11.dsn                       the month's DSN (NEODeS P26V01; January-October beside it)"
	@echo "  reports/charges/2026-11.csv (.xlsx)           what the payroll owes to whom, and when"
	@echo "  $(BIN)/eage fava                              the books in Fava, with the eage pages (http://127.0.0.1:5000)"

test: $(BIN)/.installed $(DSN_VENV)/bin/.installed system-deps
	$(BIN)/pytest -n 2

# The fast set (under a minute on 2 cores): every core module, without the long end-to-end tests.
test-fast: $(BIN)/.installed $(DSN_VENV)/bin/.installed system-deps
	$(BIN)/pytest -n 2 -m "not slow"

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks

typecheck: $(BIN)/.installed
	$(BIN)/mypy
	$(BIN)/mypy tests scripts benchmarks

check: $(BIN)/.installed
	$(BIN)/eage check

fava: $(BIN)/.installed
	$(BIN)/eage fava

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py

demo: $(BIN)/.installed system-deps
	$(BIN)/python scripts/build_demo.py --through 2026-10

clean:
	rm -rf $(VENV) $(DSN_VENV) .mypy_cache .ruff_cache .pytest_cache
