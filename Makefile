# The two commands of segport: `make demo` and `make test`.
# Each creates .venv when missing and installs the project with its dev extras
# (a no-op when pyproject.toml has not changed since the last install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.segport-installed

.PHONY: install demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m segport.demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src

# Coverage of src/segport (config in pyproject.toml), summarised after the tests.
# The tests run in one process per core (pytest-xdist; `make pytest PYTEST_WORKERS=0` for
# a single process): each waits on subprocesses, the sandbox and PostgreSQL much of the
# time, and every test makes its own databases, ports and folders. The 15 slowest are
# listed, to see what a new test costs.
PYTEST_WORKERS ?= auto
pytest: install
	@scripts/ensure-services
	@scripts/ensure-browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15 --cov --cov-report=term:skip-covered

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
