# The two commands of the README:
#   make analyze   set up (first time) and run the default analysis
#   make test      set up (first time) and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DRAWS  ?= 20000
SEED   ?= 1

.PHONY: analyze test test-slow bench setup clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(BIN)/.installed

analyze: $(BIN)/.installed
	$(BIN)/kursk-da analyze models/kursk_2025.toml --draws $(DRAWS) --seed $(SEED) --out results/kursk_2025.nc

test: $(BIN)/.installed
	$(BIN)/python -m pytest

test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -m slow

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
