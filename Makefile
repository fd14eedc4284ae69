# Two commands for a newcomer: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install demo serve test lint format typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) ## the whole loop on the embedded default (SQLite + embedded Redis)
	$(BIN)/feedback demo

serve: $(STAMP) ## SMTP ingest on 127.0.0.1:2525 + a worker, until Ctrl-C
	$(BIN)/feedback serve

test: $(STAMP) ## the test suite (set FEEDBACK_TEST_DATABASE_URL / FEEDBACK_TEST_REDIS_URL for PostgreSQL + Redis)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check feedback cli workers
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]' || $(BIN)/pip install --quiet email-reply-parser psutil
	touch $@

bench: $(VENV)/.installed-bench ## accuracy and speed figures (see bench/; reports: bench/reports.py, needs PostgreSQL)
	$(BIN)/python bench/parse_accuracy.py
	$(BIN)/python bench/classify_accuracy.py
	$(BIN)/python bench/heldout_accuracy.py
	$(BIN)/python bench/parse_speed.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_memory.py

clean:
	rm -rf var/demo .pytest_cache .mypy_cache .ruff_cache
