# Local demo and tests. `make run` starts the demo on http://127.0.0.1:8000, `make test` runs the checks.
# GNU make; the recipes use bash.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The machines run Python 3.11 (pyproject pins >=3.11,<3.12); fall back to python3 if it is 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
TEST_SETTINGS := config.settings.test
# The browser test drives Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: help venv browser run test messages clean

help:
	@echo "make run       demo on http://127.0.0.1:8000 (venv, .env, migrate, demo data and accounts, runserver and a jobs worker)"
	@echo "make test      migrations check and the test suite (SQLite), with the browser test in Chromium"
	@echo "make venv      create .venv and install the project with its test dependencies"
	@echo "make messages  update and compile the Polish translation catalogue (needs gettext)"
	@echo "make clean     remove .venv, caches and collected static files (keeps .env, db.sqlite3, media/)"

venv: $(STAMP)

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11 is needed: neither python3.11 nor python3 is on PATH." >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { \
		echo "Python 3.11 is needed; $(PYTHON) is $$($(PYTHON) --version 2>&1). Set PYTHON=/path/to/python3.11." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstalled only when the dependencies change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $@

# A local demo configuration; never overwritten. A deployment sets its own values (see README).
.env:
	@$(or $(wildcard $(PY)),$(PYTHON)) -c 'import secrets; open(".env.tmp", "w", encoding="utf-8").write( \
		"# Local demo settings written by make; not for production (see README, Configuration).\n" \
		"SECRET_KEY=" + secrets.token_urlsafe(50) + "\n" \
		"DEBUG=on\n" \
		"SITE_URL=http://127.0.0.1:8000\n" \
		"ORGANIZATION_NAME=\"Urząd Miasta (demo)\"\n")'
	@mv .env.tmp .env
	@echo "Wrote .env (local demo settings with a new SECRET_KEY)."

run: venv .env
	$(PY) manage.py migrate
	$(PY) manage.py load_demo
	@# The background jobs' worker (README, "Background jobs") runs beside the server and stops with it.
	$(PY) manage.py db_worker --no-reload & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
		$(PY) manage.py runserver 127.0.0.1:8000

# Debian's chromium for the browser test: installed with apt-get when missing and we are root; otherwise
# the test fails and says so (it is never skipped).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's chromium for the browser test"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
		else \
			echo "Chromium is missing at $(CHROMIUM): install it (apt-get install chromium) or set CHROMIUM=..." >&2; \
		fi; \
	fi

test: venv browser
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The compiled .mo files are committed, so neither `run` nor `test` needs gettext.
messages: venv
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py makemessages -l pl --ignore=.venv --ignore=tests --ignore=bench --no-obsolete
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .pytest_cache staticfiles build *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
