# The two commands of the README:
#   make run    set up, create the SQLite database with demo data, serve on http://127.0.0.1:5000/
#   make test   set up and run the whole test suite
# Both create .venv from the project's own files and install what is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 2

.PHONY: run test setup system-deps translations lint format extract-messages

run: setup
	$(BIN)/lms init
	$(BIN)/lms demo
	$(BIN)/lms serve

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

setup: system-deps $(STAMP) translations

system-deps:
	@scripts/install-system-deps.sh
	@scripts/install-browser-deps.sh

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d lms/translations

extract-messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o lms/translations/messages.pot .
	$(BIN)/pybabel -q update -N -i lms/translations/messages.pot -d lms/translations

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r lms curriculum lessons quizzes certificates

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
