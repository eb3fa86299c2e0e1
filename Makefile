# The single source of truth for set-up, lint, test, benchmarks and the demo.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
STAMP := $(VENV)/.installed

.PHONY: venv embeddings demo test test-fast lint bench bench-large bench-compare system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[test,dev,mesa]"
	touch $(STAMP)

venv: $(STAMP)

## demo: the main job on the embedded SQLite registry; prints where the results are.
demo: venv
	$(BIN)/python examples/demo.py --data $(DATA) --out results

## embeddings: the optional sentence-embedding extra, on the CPU build of torch found on disk.
embeddings: venv
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[embeddings]"

## system-deps: Debian packages the tests need (PostgreSQL server).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	fi

## test: installs what the tests need, system packages included, and runs the whole suite.
test: system-deps venv
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: venv
	$(BIN)/python -m pytest -q -x -m "not slow and not postgres"

lint: venv
	$(BIN)/ruff check src tests benchmarks examples

## bench: every benchmark at its small size; bench-large: at the issues' target sizes.
bench: venv
	$(BIN)/python benchmarks/run_all.py --size small

bench-large: venv
	$(BIN)/python benchmarks/run_all.py --size large

## bench-compare: what the last `make bench` moved, figure by figure, against its results committed at HEAD.
bench-compare: venv
	$(BIN)/python benchmarks/compare.py git:HEAD:benchmarks/results/small benchmarks/results/small

clean:
	rm -rf $(VENV) innoweave.db results
