# Two commands on a fresh machine:  make repro  (install + run the pipeline)  and  make test.
PYTHON ?= python3
VENV ?= .venv
# The CPU build is enough for the built-in demo; on a GPU machine: make repro TORCH=torch
TORCH ?= torch==2.13.0
PYCTCDECODE := pyctcdecode==0.5.0
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
# One stamp per torch requirement: asking for another one (TORCH=torch after a CPU install) reinstalls torch.
TORCH_STAMP := $(VENV)/.torch-$(subst /,_,$(subst =,_,$(subst $() ,_,$(TORCH))))

.PHONY: setup repro plots test test-fast lint clean speech-engines

setup: $(VENV)/.installed speech-engines

# The corpus's voices beside eSpeak NG (data.synthetic.engines and .unseen): Debian packages, installed where
# this machine lets us (root with apt-get); elsewhere download stops with one line saying what to install.
ENGINE_PACKAGES := flite festival festvox-kdlpc16k festvox-kallpc16k
speech-engines:
	@dpkg -s $(ENGINE_PACKAGES) >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(ENGINE_PACKAGES) >/dev/null; } || \
	  echo "note: $(ENGINE_PACKAGES) not installed (apt-get install them to synthesize their voices)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(TORCH_STAMP): | $(BIN)/python
	rm -f $(VENV)/.torch-*
	$(BIN)/python -m pip uninstall --quiet --yes torch 2>/dev/null || true
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	touch $@

$(VENV)/.installed: pyproject.toml Makefile $(TORCH_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# beam search: pyctcdecode's numpy<2 pin is stale (its code runs on numpy 2, see src/ctc_asr/decoding/beam.py)
	$(BIN)/python -m pip install --quiet --no-deps "$(PYCTCDECODE)"
	touch $@

repro: setup
	dvc repro
	# outputs a rerun reproduced byte for byte stay copies until relinked to the cache (DVC 3.67)
	dvc checkout --relink --quiet

# The plots page, drawn with no network: Vega, Vega-Lite and vega-embed inside it (src/ctc_asr/evaluation/plots.py),
# not from a CDN. `make plots REVS="HEAD~1"` overlays revisions (dvc plots diff).
plots: setup          ## dvc_plots/index.html: every plot of dvc.yaml, for any browser, offline
	python -m ctc_asr.evaluation.plots dvc_plots/page.html
	dvc plots $(if $(REVS),diff $(REVS),show) --html-template dvc_plots/page.html

test: setup           ## the whole suite: unit tests, lint and the end-to-end dvc runs (a few minutes)
	python -m pytest -n 2 --dist worksteal

test-fast: setup      ## the edit-test loop: everything but the end-to-end dvc runs (about a minute)
	python -m pytest -n 2 --dist worksteal -m "not e2e"

lint: setup
	ruff check .

clean:
	rm -rf $(VENV) data models dvc_plots
