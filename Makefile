# The two quick-start commands are `make run` and `make test`; everything else is what they use.
# `make run` installs what running needs (pyproject's dependencies); `make test` adds the test
# tools (the `test` extra). `make test-oldest` runs the statistics tests again on the lowest
# versions pyproject.toml allows. `make worker` is a worker of the job queue (PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OLDEST_VENV ?= .venv-oldest
OLDEST_BIN := $(OLDEST_VENV)/bin
FLASK := $(BIN)/flask --app survey_app
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist workers for `make test` (auto: one per CPU); a test file stays on one worker
TEST_WORKERS ?= auto

.PHONY: run worker test test-oldest setup setup-test lint translations-extract translations-update translations-compile bench-respond bench-weighting clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed translations-compile

setup-test: $(VENV)/.installed-test translations-compile

run: setup
	$(FLASK) init-db
	$(FLASK) seed-demo --responses 300 --if-empty
	SESSION_COOKIE_SECURE=0 $(FLASK) run --host $(HOST) --port $(PORT)

# Weighting runs from the job queue; needs DATABASE_URL on PostgreSQL (SQLite runs them in the app).
worker: setup
	$(FLASK) worker

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# The pure statistics (R comparisons included) on the oldest numpy, pandas, scipy, statsmodels...
# that pyproject.toml allows: constraints-oldest.txt pins each direct dependency to its lower bound.
$(OLDEST_BIN)/python:
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_BIN)/pip install --quiet --upgrade pip

$(OLDEST_VENV)/.installed: pyproject.toml constraints-oldest.txt | $(OLDEST_BIN)/python
	$(OLDEST_BIN)/pip install --quiet -e '.[test]' -c constraints-oldest.txt
	touch $@

test-oldest: $(OLDEST_VENV)/.installed
	@$(OLDEST_BIN)/python -c 'import importlib.metadata as m; \
	print("test-oldest:", ", ".join(f"{p} {m.version(p)}" for p in \
	("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pyreadstat")))'
	$(OLDEST_BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests/analysis $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

translations-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --project par-survey .

translations-update: translations-extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

translations-compile: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

bench-respond: setup-test
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/respond.py

bench-weighting: setup-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/weighting.py

clean:
	rm -rf $(VENV) $(OLDEST_VENV) instance .pytest_cache
