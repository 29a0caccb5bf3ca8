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

# Ingest the bundled sample corpus with the embedded defaults, then run the main job on it.
run: setup
	$(BIN)/paperbrief --data-dir $(DATA) ingest --sample
	$(BIN)/paperbrief --data-dir $(DATA) search "speeding up diffusion language models" -k 5

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest -q

bench: setup
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DATA) $(OUT) build *.egg-info
