# Kotae — one command to set up and run the demo, one to set up and run the tests.
#   make demo    install into .venv, then answer a sample question over the bundled documents
#   make test    install into .venv (with test tools), then run the whole test suite
#   make check   lint + types + tests
#   make bench   benchmarks (see BENCHMARKS.md)
# The test and bench set-up also installs the Debian packages they read (scripts/system-deps.sh):
# real Japanese manuals and a headless office suite. Without root or apt those tests skip.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
QUESTION ?= 日本方式の地デジを採用した国は何か国？

.PHONY: demo test check lint bench install install-dev system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the local CPU build first, so that sentence-transformers does not pull CUDA.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev system-deps

system-deps:
	sh scripts/system-deps.sh
	sh scripts/postgres-user.sh

demo: install
	$(BIN)/kotae ask "$(QUESTION)"

test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check knowledge embeddings bot tests bench
	$(BIN)/mypy knowledge embeddings bot

check: lint test

bench: install-dev
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
