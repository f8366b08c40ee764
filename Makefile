# Every target creates .venv by itself on a new machine (only Python 3.11+ and make needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: backtest test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

backtest: $(STAMP)
	$(BIN)/orderpace backtest

test: $(STAMP)
	$(BIN)/ruff check limiters engine strategies tests benchmarks
	$(BIN)/mypy
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-$$( [ -n "$$CI" ] && echo ci || echo default )} \
		$(BIN)/pytest -q -n auto --dist worksteal

$(VENV)/.bench-installed: pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench,report]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/orderpace bench --out benchmarks/results

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
