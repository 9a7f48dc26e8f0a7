# leverboard — everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     := data/demo.duckdb
PORT   ?= 8501
# the interface `make run` listens on: this machine only, unless ADDRESS=0.0.0.0 (every interface)
ADDRESS ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium

.PHONY: help install browser postgres spark run dev demo test test-cluster test-fast mutate screenshots check lint bench bench-import loadtest validate clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

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

run: $(VENV)/.installed $(DB)  ## start the app on http://localhost:8501 (this machine only)
	$(VENV)/bin/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) \
	  --server.headless true

dev: $(VENV)/.installed $(DB)  ## `make run` that reloads the app when a source file is saved
	$(VENV)/bin/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) \
	  --server.headless true --server.fileWatcherType auto --server.runOnSave true

# $(call need,DEBIAN-PACKAGE,SHELL-TEST,WHAT-FOR): apt-get install it when missing (as root)
define need
	@if ! $(2); then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's $(1) ($(3))..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else \
	    echo "$(3) need Debian's $(1): sudo apt-get install $(1)"; exit 1; \
	  fi; \
	fi
endef

browser:  ## Debian's Chromium for the browser tests (installed with apt-get when root)
	$(call need,chromium,[ -x $(CHROMIUM) ],the browser tests)

postgres:  ## PostgreSQL server binaries for the database tests (apt-get when root)
	$(call need,postgresql,ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1,the database tests)

$(VENV)/.spark: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev,spark,spark-server]"
	touch $@

spark: $(VENV)/.spark  ## Java and Spark (pyspark, PyHive) for the warehouse tests (apt-get when root)
	$(call need,openjdk-17-jre-headless,command -v java >/dev/null 2>&1,the Spark tests)

test: $(VENV)/.installed browser postgres spark lint  ## lint, then every test (unit, app, browser, PostgreSQL, Spark)
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q -n 2 --dist loadfile

test-cluster: $(VENV)/.installed spark  ## the Spark parity tests on a master and 2 workers (separate JVMs)
	LEVERBOARD_SPARK_WORKERS=2 $(PY) -m pytest -q -m spark tests/db

# keeps the compiled modules and pytest's rewritten tests between runs, even where the
# environment says PYTHONDONTWRITEBYTECODE: compiling them again is a tenth of the loop
test-fast: $(VENV)/.installed  ## the developer's loop (under a minute): unit tests of kpi/, import rules
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n 2 -m "not slow" tests/unit tests/ingest

mutate: $(VENV)/.installed  ## mutation testing of engine, views, people, baseline, rollups, plan -> docs/testing.md
	nice $(PY) scripts/mutate.py $(MUTATE_ARGS)

screenshots: $(VENV)/.installed browser  ## refresh the page screenshots in docs/
	LEVERBOARD_SCREENSHOTS=docs CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/e2e

lint: $(VENV)/.installed  ## ruff, the layer contract and mypy (strict) on kpi/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

check: test  ## what CI runs (same as make test)

BENCH_SIZES ?= 1,10

bench: $(VENV)/.installed browser $(DB)  ## engine vs pandas at 1M and 10M activities, pages in Chromium -> benchmarks/RESULTS.md
	CHROMIUM=$(CHROMIUM) $(PY) benchmarks/bench.py --sizes $(BENCH_SIZES) --pages $(DB) scale

LOAD_ARGS ?=

loadtest: $(VENV)/.installed $(DB)  ## 20 and 50 sessions for 60 s, 1 and 2 servers, on 127.0.0.1 -> benchmarks/RESULTS.md
	$(PY) benchmarks/loadtest.py --db $(DB) --servers 1,2 --write $(LOAD_ARGS)

bench-import: $(VENV)/.installed  ## time importing a 2.7M-deal Salesforce export -> benchmarks/RESULTS.md
	$(PY) benchmarks/import_export.py --write

VALIDATE_SEEDS ?= 1-10

validate: $(VENV)/.installed  ## rollout effects against the demo's answer key, seeds 1-10 -> benchmarks/out/
	$(PY) benchmarks/validate_rollout.py --seeds $(VALIDATE_SEEDS) --dir benchmarks/out/validate \
	  --out benchmarks/out/validate_rollout.md

clean:  ## remove the venv and generated data
	rm -rf $(VENV) $(DB) .pytest_cache .ruff_cache
