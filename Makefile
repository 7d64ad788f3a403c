# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the wheel users install, its analysis compiled with mypyc (hatch_build.py), installed
# apart: the suite's second pass and the benchmarks import it ahead of the checkout
COMPILED := $(CURDIR)/build/compiled
PACKAGED := $(shell find codeplan analyzers prompts sandboxes -type f -not -path '*/__pycache__/*') \
	pyproject.toml hatch_build.py

.PHONY: demo test lint typecheck compiled bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(COMPILED)/.installed: $(STAMP) $(PACKAGED)
	rm -rf $(COMPILED) build/wheel && mkdir -p build
	CODEPLAN_COMPILE=1 $(BIN)/python -m build --wheel --no-isolation --outdir build/wheel . >build/wheel.log 2>&1 \
		|| { tail -30 build/wheel.log; exit 1; }
	$(BIN)/python -m pip install --quiet --no-deps --target $(COMPILED) build/wheel/codeplan-*.whl
	touch $@

compiled: $(COMPILED)/.installed

demo: $(STAMP)
	$(BIN)/python examples/run_demo.py

lint: $(STAMP)
	$(BIN)/ruff check codeplan tests benchmarks hatch_build.py
	$(BIN)/ruff format --check codeplan tests benchmarks hatch_build.py

typecheck: $(STAMP)
	$(BIN)/mypy

# twice: on the checkout's sources, then on the compiled wheel (conftest.py checks which)
test: lint typecheck compiled
	$(BIN)/python -m pytest -q tests
	CODEPLAN_TEST_COMPILED=1 PYTHONPATH=$(COMPILED) $(BIN)/pytest -q -p no:cacheprovider tests

# graph build speed against the parse floor and peers, on the compiled wheel
bench: compiled
	PYTHONPATH=$(COMPILED) $(BIN)/python benchmarks/graph_speed.py $(ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
