# Every target creates or reuses .venv by itself: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KERNEL := csresearch
MONTH  ?=
DATA   ?=
DEMO   := data/demo.duckdb
STAMP  := $(VENV)/.installed

.PHONY: setup demo report lab test lint benchmark clean

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

report: $(STAMP)
	$(BIN)/csresearch run $(if $(MONTH),--month $(MONTH),) $(if $(DATA),--data $(DATA),)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks
	$(BIN)/mypy
	$(BIN)/python tools/notebooks.py check

test: lint
	$(BIN)/python -m pytest -q -n 2

benchmark: $(STAMP)
	$(BIN)/python benchmarks/time_demo.py

clean:
	rm -rf reports/.staging-* reports/lab
