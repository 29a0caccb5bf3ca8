# The few commands everyone runs. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= paperbrief-data
OUT ?= out

.PHONY: setup browser run test lint bench eval eval-scitldr known-item examples clean

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
	$(BIN)/lint-imports --no-cache

# Both public suites declare their corpus and run in fresh stores of their own; EVAL_DATA only
# keeps the embedding memo (and the run folders), so a second run need not embed again.
EVAL_DATA ?= $(OUT)/eval-store
SUITE := evals/suites/sample.yaml
BASELINE := evals/suites/sample.baseline.json
SCITLDR_SUITE := evals/suites/scitldr.yaml
SCITLDR_BASELINE := evals/suites/scitldr.baseline.json

# Lint, the eval regression gates, then the tests (pytest's summary is the last line CI prints).
# The web app's tests and `make examples` drive Debian's headless Chromium: installed here when
# missing, so `make test` alone sets up a fresh machine (as root; otherwise it says what to run).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "make: Debian's chromium is needed: sudo apt-get install -y chromium" >&2; exit 1; fi; }

test: setup browser lint
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval $(SUITE) --mode offline --quiet \
		--out $(OUT)/eval-gate --baseline $(BASELINE)
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval $(SCITLDR_SUITE) --mode offline --quiet \
		--out $(OUT)/eval-gate-scitldr --baseline $(SCITLDR_BASELINE)
	$(BIN)/pytest -q

eval: setup
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval $(SUITE) --mode offline --out $(OUT)/eval

eval-scitldr: setup
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval $(SCITLDR_SUITE) --mode offline --out $(OUT)/eval-scitldr

# The examples gallery (docs/examples/): the sample week's briefing as Markdown, HTML and a PNG
# screenshot of the HTML (headless Chromium, Debian's `chromium` package), one answer with a
# follow-up, and one comparison, all from a fresh store of the bundled sample.
EXAMPLES := docs/examples
EXAMPLES_DATA := $(OUT)/examples-store
CHROMIUM ?= chromium
ANSWER_Q := How do recent methods speed up diffusion language models?
FOLLOW_UP_Q := Which of them need no training?
COMPARE_Q := KV caching and parallel decoding for diffusion language models

examples: setup browser
	rm -rf $(EXAMPLES_DATA) && mkdir -p $(EXAMPLES)
	$(BIN)/paperbrief --data-dir $(EXAMPLES_DATA) ingest --sample > /dev/null
	$(BIN)/paperbrief --data-dir $(EXAMPLES_DATA) brief --since 2025-05-19 --until 2025-05-25 \
		--out $(EXAMPLES)/briefing > /dev/null
	rm -f $(EXAMPLES)/briefing.txt
	$(BIN)/python docs/examples/generate.py --data-dir $(EXAMPLES_DATA) --out $(EXAMPLES) \
		--ask "$(ANSWER_Q)" --follow-up "$(FOLLOW_UP_Q)" --compare "$(COMPARE_Q)"
	profile=$$(mktemp -d) && $(CHROMIUM) --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir=$$profile --window-size=960,2200 \
		--screenshot=$(abspath $(EXAMPLES))/briefing.png \
		file://$(abspath $(EXAMPLES))/briefing.html 2> /dev/null; status=$$?; rm -rf $$profile; exit $$status
	# The web app's pages, as its browser test drives them.
	PAPERBRIEF_SCREENSHOTS=$(abspath $(EXAMPLES)) $(BIN)/pytest -q tests/agent/test_web.py -k browser
	ls -l $(EXAMPLES)

# Known-item search over SciTLDR-A dev: each author TLDR asked of a store of all 616 papers
# (recall@1/@5 of search and of the answer, false abstention), and 50 out-of-domain questions
# (correct abstention). Not in the gate: minutes, not seconds, on two cores. KNOWN_ITEM may name
# a SciTLDR JSON Lines file instead; KNOWN_ITEM_FLAGS=--strip-title-words for the hard reading.
KNOWN_ITEM ?= evals/suites/data/scitldr_a_dev
NEGATIVES ?= evals/suites/data/out_of_domain.txt
KNOWN_ITEM_FLAGS ?=
known-item: setup
	$(BIN)/paperbrief --data-dir $(EVAL_DATA) eval --known-item $(KNOWN_ITEM) \
		--negatives $(NEGATIVES) $(KNOWN_ITEM_FLAGS) --out $(OUT)/known-item

bench: setup
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DATA) $(OUT) build *.egg-info
