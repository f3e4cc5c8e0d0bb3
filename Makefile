# Two commands on a fresh machine:  make repro  (install + run the pipeline)  and  make test.
PYTHON ?= python3
VENV ?= .venv
# The CPU build is enough for the built-in demo; on a GPU machine: make repro TORCH=torch
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup repro test clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

repro: setup
	dvc repro

test: setup
	python -m pytest

clean:
	rm -rf $(VENV) data models dvc_plots
