# leverboard — everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     := data/demo.duckdb
PORT   ?= 8501

.PHONY: help install run demo test check lint bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed  ## create .venv and install the app and its dev tools

$(DB): | $(VENV)/.installed
	$(PY) -m kpi demo --db $(DB)

demo: $(VENV)/.installed  ## (re)build the demo database
	$(PY) -m kpi demo --db $(DB) --force

run: $(VENV)/.installed $(DB)  ## start the app on http://localhost:8501
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

test: $(VENV)/.installed  ## run every test
	$(PY) -m pytest -q

lint: $(VENV)/.installed  ## ruff and the layer contract
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check: lint test  ## what CI should pass: lint, layer contract and tests

bench: $(VENV)/.installed  ## benchmarks (placeholder until the scale benchmark lands)
	@echo "make bench: the company-scale benchmark is not written yet; nothing was measured."

clean:  ## remove the venv and generated data
	rm -rf $(VENV) $(DB) .pytest_cache .ruff_cache
