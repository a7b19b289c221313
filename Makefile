# Every target creates or reuses .venv by itself: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KERNEL := csresearch
MONTH  ?=
DATA   ?=
DEMO   := data/demo.duckdb
DEMO_JA := data/demo_ja.duckdb
STAMP  := $(VENV)/.installed

.PHONY: setup demo demo-ja report lab test lint benchmark clean screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# name the kernel explicitly, inside the venv: papermill's "No such kernel" otherwise
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"
	@touch $(STAMP)

setup: $(STAMP)

$(DEMO): | $(STAMP)
	$(BIN)/csresearch synth --out $(DEMO)

demo: $(STAMP) $(DEMO)
	$(BIN)/csresearch run $(if $(MONTH),--month $(MONTH),)
	@echo "open reports/$$(ls -t reports | grep -v '^\.' | head -1)/index.html"

# The same demo in Japanese and in yen (a make target, not LANG=ja: LANG is the shell's locale variable
# and would switch the report language of anyone whose terminal is Japanese). Reports go to reports/ja/.
$(DEMO_JA): | $(STAMP)
	$(BIN)/csresearch synth --locale ja --out $(DEMO_JA)

demo-ja: $(STAMP) $(DEMO_JA)
	$(BIN)/csresearch run --data $(DEMO_JA) --reports reports/ja $(if $(MONTH),--month $(MONTH),) \
		-p language=ja -p currency=JPY
	@echo "open reports/ja/$$(ls -t reports/ja | grep -v '^\.' | head -1)/index.html"

report: $(STAMP)
	$(BIN)/csresearch run $(if $(MONTH),--month $(MONTH),) $(if $(DATA),--data $(DATA),)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks
	$(BIN)/mypy
	$(BIN)/python tools/notebooks.py check
	$(BIN)/python tools/i18n.py check

test: lint
	$(BIN)/python -m pytest -q -n 3 --dist worksteal --durations=25

# PNGs of every page of the demo month (first screen and full page) in screenshots/, and the README's
# docs/img/index.png; REPORTS=reports/2026-11 takes pages already rendered (needs Debian's chromium)
screenshots: $(STAMP) $(DEMO)
	$(BIN)/python tools/screenshots.py --readme $(if $(REPORTS),--reports $(REPORTS),--month 2026-11 --data $(DEMO))

benchmark: $(STAMP)
	$(BIN)/python benchmarks/time_demo.py

clean:
	rm -rf reports/.staging-* reports/lab
