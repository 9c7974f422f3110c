# The two commands: `make run` and `make test`. Each creates .venv when it is missing.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint bench install clean

run: $(STAMP)
	$(BIN)/telefono-abierto run

# The suite in TEST_WORKERS processes (pytest-xdist), each test where a process is free: more
# processes than cores, since the end-to-end tests spend most of their time waiting on the
# service (replies paced at Telegram's one a second per chat). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The fault tests: crashes, outages and overload against the real service (a few minutes).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/classifier.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/receive.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/desk.py

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Se necesita Python 3.11 o posterior (python3.11, python3.12 o python3.13)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
