# remotejobs: one-command setup, demo and tests (Debian 12 with Python 3.11, make, root).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-parallel test-serial test-fast lint docs docs-serve cluster cluster-down bench bench-smoke clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { apt-get update -q && apt-get install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' $(addprefix -e ,$(PLUGINS))
	@touch $(STAMP)

## The main job: a demo on the built-in local backend.
demo: setup
	$(BIN)/python examples/demo.py

## Everything: brings up the real test cluster (apt installs on first run), then all tests,
## first in parallel (pytest-xdist; a test class or module stays on one worker: most of the
## time is spent waiting on schedulers, so more workers than cores), then the tests marked
## `serial` (they stop shared daemons or need the cluster to themselves) alone. Both phases
## always run; either failing fails the target. The attack scoreboard (secret leaks, jobs
## lost/duplicated...) covers both phases: the second adds to the first's (--scoreboard-add).
TEST_WORKERS ?= 4
test: setup cluster
	@rc=0; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope -m "not serial" || rc=$$?; \
	$(BIN)/pytest -q -m serial --scoreboard-add || { r=$$?; [ $$r -eq 5 ] || rc=$$r; }; \
	exit $$rc

## The same as `make test` (its former name).
test-parallel: test

## All tests in one serial pytest run (slower: about 20 min on 2 cores).
test-serial: setup cluster
	$(BIN)/pytest -q

## Tests that need no cluster.
test-fast: setup
	$(BIN)/pytest -q -m "not cluster"

lint: setup
	$(BIN)/ruff check src plugins tests examples benchmarks docsite conftest.py
	$(BIN)/mypy --strict src $(addsuffix src,$(PLUGINS))
	$(BIN)/mypy --strict tests
	@# one run per plugin: their test folders all hold a conftest.py (no packages)
	for d in $(addsuffix tests,$(PLUGINS)); do $(BIN)/mypy --strict $$d || exit 1; done
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/mypy --strict benchmarks
	$(MAKE) docs

## The documentation site (MkDocs, strict: a broken link or an undocumented setting fails).
docs: setup
	$(BIN)/pip install -q -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: setup
	$(BIN)/pip install -q -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

cluster:
	tests/cluster/up > /dev/null

cluster-down:
	tests/cluster/down

## Benchmarks side by side with PSI/J, OpenSSH, sbatch and scp (several minutes; writes
## benchmarks/results/latest.json, docs/assets/benchmarks.png and the table in docs/benchmarks.md).
bench: setup cluster
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks

## Every benchmark case at a tiny size: checks the suite works (CI); figures mean nothing.
bench-smoke: setup cluster
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks --smoke

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .pytest_state site
