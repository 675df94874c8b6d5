# The two commands in the README: `make run` and `make test`.
.PHONY: setup run test test-fast lint
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

setup:
	@bash scripts/setup.sh

run: setup
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py seed_demo
	@$(PY) manage.py make_keys -v0 >/dev/null
	@$(PY) manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/"
	@echo "  Demo sign-ins, password 'demo' for each:"
	@echo "    admin (administrator); jimukyokucho, shoki (secretariat / clerks)"
	@echo "    giin01 (議長 chair), giin02 (副議長), giin03 (committee chair), giin04 ... giin10 (councillors)"
	@echo "    chocho (町長 mayor), kacho (総務課長) (officials)"
	@echo ""
	@# The job worker (minutes PDFs, e-mails) runs beside daphne and stops with it.
	@COUNCIL_DEMO=1 nice -n 19 $(PY) manage.py run_worker --no-reload -v0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	COUNCIL_DEMO=1 $(PY) -m daphne -b $(HOST) -p $(PORT) council.asgi:application

test: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop while working: everything but the tests marked slow (a second or more by nature: real
# servers, other processes, thread races, real waits, PDF renders, the whole demo) or browser; `make test` still runs everything, one process, fresh
# database, full Hypothesis example counts. Here: two pytest-xdist workers, each keeping its test
# database between runs (--reuse-db: new migrations are applied; after editing one, pass
# PYTEST_ARGS=--create-db), the rewritten test modules cached, Hypothesis's fast profile
# (tests/hypothesis_profiles.py).
test-fast: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@PYTHONDONTWRITEBYTECODE= HYPOTHESIS_PROFILE=fast \
		$(PY) -m pytest -m "not slow and not browser" -n 2 --reuse-db $(PYTEST_ARGS)

lint: setup
	@$(PY) -m ruff check . && $(PY) -m ruff format --check .
