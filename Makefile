# Two entry points for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/akun

.PHONY: demo test test-sqlite test-postgres lint venv messages pg redis chromium debian-packages bench clean

# The Debian packages first: the test extras' xmlsec binding may compile against them.
$(BIN)/akun: pyproject.toml
	bash scripts/ensure-debian-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/akun

venv: $(BIN)/akun messages

# Translations: the .po catalogs are the source; their .mo are compiled here (only those older
# than their .po), never committed. msgfmt is Debian's gettext. docs/translation.md
messages: $(BIN)/akun
	bash scripts/ensure-debian-packages.sh
	cd akun && ../$(BIN)/akun compilemessages -v 0

demo: venv
	$(BIN)/akun demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/akun makemigrations --check --dry-run
	$(BIN)/lint-imports  # the boundaries between apps (pyproject.toml, tool.importlinter)

test-sqlite: venv chromium debian-packages redis
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest -q

pg:
	bash scripts/ensure-postgres.sh

# Throttling tests run against the local Redis too.
redis:
	bash scripts/ensure-redis.sh

# Browser tests drive Debian's chromium.
chromium:
	bash scripts/ensure-chromium.sh

# SAML signing (pysaml2) runs Debian's xmlsec1.
debian-packages:
	bash scripts/ensure-debian-packages.sh

test-postgres: venv pg chromium debian-packages redis
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) var
