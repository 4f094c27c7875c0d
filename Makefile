# Two commands on a fresh machine: `make demo` (set up + main job) and `make test` (set up + tests).
# Both install the exact versions the suite was last run with (requirements.lock, hashes checked);
# `make test-latest` installs the newest versions pyproject.toml allows, so drift is found on purpose.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
LATEST := .venv-latest
TOOLS := .venv-tools

.PHONY: demo test test-latest lint lock sbml bench slow clean

$(STAMP): pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mekisim demo --out results/demo --force

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks experiments
	$(BIN)/lint-imports
	$(BIN)/mypy

# The newest versions pyproject.toml allows, in a venv of their own; prints what differs from the lock.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	@echo "versions that differ from $(LOCK):"
	@$(LATEST)/bin/python -m pip freeze --exclude-editable | sort -f > $(LATEST)/freeze.txt
	@grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' $(LOCK) | sort -f | diff - $(LATEST)/freeze.txt || true
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider

# Regenerate the lock after a dependency change (then run `make test` and commit both files).
lock:
	test -x $(TOOLS)/bin/uv || ($(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/python -m pip install --quiet uv)
	$(TOOLS)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu --generate-hashes --quiet -o $(LOCK)

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
	rm -rf $(VENV) $(LATEST) $(TOOLS) results .pytest_cache
