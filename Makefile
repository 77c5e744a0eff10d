# The two commands of the README:
#   make analyze   set up (first time) and run the default analysis
#   make test      set up (first time) and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DRAWS  ?= 20000
SEED   ?= 1

.PHONY: analyze test test-slow bench setup clean report

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(BIN)/.installed

analyze: $(BIN)/.installed
	$(BIN)/kursk-da analyze models/kursk_2025.toml --draws $(DRAWS) --seed $(SEED) --out results/kursk_2025.nc

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto --dist loadfile

test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -m slow

# The committed example report (results/report/) of the default (calibrated) analysis:
# calibrate and propagate, add the EVPPI ranking (voi), the tornado, Sobol' indices and
# scenarios (sensitivity), the reactive strategies (policy), the rolling-origin hindcast
# (hindcast) and the competing model structures (variants) to the same result set (an origin or
# variant that fails the convergence gate is flagged in the report, not fatal here), then
# write the report and a screenshot of
# its first screen in headless Chromium (results/report/first_screen.png; needs Debian's
# chromium and chromium-driver, see .ci/run). Modest draws keep it small.
REPORT_DRAWS ?= 5000
report: $(BIN)/.installed
	$(BIN)/kursk-da analyze models/kursk_2025.toml --draws $(REPORT_DRAWS) --seed $(SEED) --out results/example.nc --no-progress
	$(BIN)/kursk-da voi results/example.nc --seed $(SEED) --out results/example.nc
	$(BIN)/kursk-da sensitivity results/example.nc --seed $(SEED) --out results/example.nc
	$(BIN)/kursk-da policy results/example.nc --seed $(SEED) --out results/example.nc
	$(BIN)/kursk-da hindcast results/example.nc --seed $(SEED) --by-quantity --allow-unconverged
	$(BIN)/kursk-da variants results/example.nc --seed $(SEED) --draws $(REPORT_DRAWS) --allow-unconverged
	$(BIN)/kursk-da report results/example.nc --out results/report
	$(BIN)/python tools/report_screenshot.py results/report

# every script of benchmarks/ at full size (an hour or more: SBC, the calibration, 10^7
# draws), then one table of their figures with goals and pass/fail (docs/benchmarks.md);
# BENCH_SKIP="sbc bench_calibration" leaves some out. `make test` runs each with --smoke.
BENCH_SKIP ?=
bench: $(BIN)/.installed
	$(BIN)/python tools/bench_table.py --skip $(BENCH_SKIP)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache
