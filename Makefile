# Two entry points for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/akun
LOCK := requirements/lock.txt
UPGRADE ?= --upgrade
# The suite in parallel workers, each with a test database of its own (pytest-django adds
# _gw0, _gw1, … to its name) and its own slice of the test servers' ports (tests/ports.py).
# Four on two cores: many tests wait on a subprocess, a browser or a server. XDIST= runs one.
XDIST ?= -n 4

.PHONY: demo test test-sqlite test-postgres test-cluster lint venv messages lock pg redis chromium debian-packages bench clean

# The Debian packages first: the test extras' xmlsec binding may compile against them.
# Every dependency comes from the lock (exact versions, hashes); then Akun itself.
$(BIN)/akun: pyproject.toml $(LOCK)
	bash scripts/ensure-debian-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(BIN)/akun

venv: $(BIN)/akun messages

# Translations: the .po catalogs are the source; their .mo are compiled here (only those older
# than their .po), never committed. msgfmt is Debian's gettext. docs/translation.md
messages: $(BIN)/akun
	bash scripts/ensure-debian-packages.sh
	cd akun && ../$(BIN)/akun compilemessages -v 0

# Re-resolve the lock to the newest versions pyproject.toml allows (runtime + test extras,
# for the Python that runs it); pip-tools lives in its own venv, outside the project's.
# One package only: make lock UPGRADE="--upgrade-package NAME".
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install -q pip-tools
	$(VENV)-lock/bin/pip-compile -q $(UPGRADE) --generate-hashes --extra test --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

demo: venv
	$(BIN)/akun demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/akun makemigrations --check --dry-run
	$(BIN)/lint-imports  # the boundaries between apps (pyproject.toml, tool.importlinter)

test-sqlite: venv chromium debian-packages redis
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest -q $(XDIST)

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
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q $(XDIST)

# Two nodes behind haproxy in network namespaces (root), sharing PostgreSQL and Redis.
test-cluster: venv pg debian-packages redis
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -m cluster tests/cluster

test: lint test-sqlite test-postgres test-cluster

clean:
	rm -rf $(VENV) $(VENV)-lock var
