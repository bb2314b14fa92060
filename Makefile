# Two commands for newcomers: `make run` (the bot on its embedded defaults) and `make test`.
# `make test` installs no system packages and starts no daemons: .ci/run prepares PostgreSQL and
# Docker (for tests/ops/test_image.py, NEWSBOT_TEST_IMAGE=1) first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/newsbot run

test: $(VENV)/.installed lint typecheck unit

lint: $(VENV)/.installed
	$(BIN)/ruff check bot tests benchmarks scripts
	$(BIN)/ruff format --check bot tests benchmarks scripts

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: $(VENV)/.installed
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
