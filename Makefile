# Two commands on a fresh machine: `make demo` (set up + main job) and `make test` (set up + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint sbml bench slow clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mekisim demo --out results/demo

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks experiments
	$(BIN)/lint-imports

# Regenerate the committed SBML from the Antimony sources (tests fail if they drift apart).
sbml: $(STAMP)
	$(BIN)/python -c 'import sys; from simulator.model import write_sbml; [print(write_sbml(p)) for p in sys.argv[1:]]' models/*.ant

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/screen.py
	$(BIN)/python benchmarks/fit.py
	$(BIN)/python benchmarks/sensitivity.py

slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV) results .pytest_cache
