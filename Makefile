# Two entry points for newcomers: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Installed on its own before the rl and scale extras: on these machines this version resolves to a
# local CPU wheel; a bare `torch` requirement would pull a multi-GB CUDA build instead.
TORCH_VERSION ?= 2.13.0

.PHONY: demo test lint typecheck pytest docs core-check bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/python -m pip install --quiet -e ".[rl,scale,dev,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/smartcharging demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

# The documentation site, into build/site; any warning (a broken link or anchor, a docstring the
# API reference cannot read) fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The core install (no rl extra, so no torch) from the built wheel must run every
# non-training command from the data inside the wheel.
CORE_VENV := .venv-core
core-check:
	rm -rf $(CORE_VENV) build/wheel
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CORE_VENV)/bin/python -m pip wheel --quiet --no-deps --wheel-dir build/wheel .
	$(CORE_VENV)/bin/python -m pip install --quiet build/wheel/smartcharging-*.whl
	$(CORE_VENV)/bin/python -c "import importlib.resources as r, sys; sys.exit(not r.files('smartcharging').joinpath('py.typed').is_file())"
	$(CORE_VENV)/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None or u.find_spec('stable_baselines3') is not None)"
	cd $(CORE_VENV) && bin/smartcharging scenario list > /dev/null
	cd $(CORE_VENV) && bin/smartcharging solve > /dev/null
	cd $(CORE_VENV) && bin/smartcharging compare --episodes 0 > /dev/null
	cd $(CORE_VENV) && bin/smartcharging compare --scenario depot-10-overnight --episodes 2 > /dev/null
	@echo "core-check: the wheel installs without the rl extra and runs scenario list, solve and compare"

test: lint typecheck pytest docs core-check

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/solver.py
	$(BIN)/python benchmarks/training.py

clean:
	rm -rf $(VENV) $(CORE_VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
