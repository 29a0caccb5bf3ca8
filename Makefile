# The few commands everyone runs. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= paperbrief-data
OUT ?= out

.PHONY: setup run test lint bench eval clean

$(BIN)/paperbrief: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/paperbrief

# Ingest the bundled sample corpus with the embedded defaults, then run the main job on it:
# one cited answer, and the briefing of the sample's busiest week as Markdown, HTML and text.
run: setup
	$(BIN)/paperbrief --data-dir $(DATA) ingest --sample
	$(BIN)/paperbrief --data-dir $(DATA) ask "How do recent methods speed up diffusion language models?"
	$(BIN)/paperbrief --data-dir $(DATA) brief --since 2025-05-19 --until 2025-05-25 --out $(OUT)/briefing

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The eval gate gets a store of its own: extra papers in $(DATA) would change what it measures.
EVAL_DATA ?= $(OUT)/eval-store
SUITE := evals/suites/sample.yaml
BASELINE := evals/suites/sample.baseline.json

# Lint, the eval regression gate, then the tests (pytest's summary is the last line CI prints).
test: setup lint
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval $(SUITE) --mode offline --quiet \
		--out $(OUT)/eval-gate --baseline $(BASELINE)
	$(BIN)/pytest -q

eval: setup
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval $(SUITE) --mode offline --out $(OUT)/eval

bench: setup
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DATA) $(OUT) build *.egg-info
