# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export DATABASE_URL ?= sqlite+aiosqlite:///$(CURDIR)/var/disbursement.db

.PHONY: run test test-sqlite test-postgres lint typecheck bench openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up, migrate the SQLite database, load the demo province, serve on http://127.0.0.1:$(PORT)
run: $(STAMP)
	mkdir -p var
	$(PY) -m app migrate
	$(PY) -m app demo --if-empty
	@echo "Serving the demo province as of 2024-10-11 on http://127.0.0.1:$(PORT)/docs (keys: var/demo-keys.json)"
	CLOCK_TODAY=2024-10-11 $(PY) -m app serve --port $(PORT)

## test: the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set; the `replica` tests need the
## primary + standby pair (scripts/replica-pair.sh) and are run against it by .ci/run, not here
test: $(STAMP)
	$(PY) -m pytest -q -m "not postgres and not replica" -p no:cacheprovider
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL"; \
		$(PY) -m pytest -q -m "not replica" -p no:cacheprovider; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run not requested"; fi

lint: $(STAMP) typecheck
	$(VENV)/bin/ruff check app tests bench clients/python

## typecheck: mypy over app/ and the import contracts ([tool.mypy], [tool.importlinter] in pyproject.toml)
typecheck: $(STAMP)
	$(VENV)/bin/mypy app
	$(VENV)/bin/lint-imports

## simulate: a long seeded simulation of the API checking every invariant after each step (tests/simulation);
## SIM_SEED, SIM_STEPS, SIM_CLIENTS; a temporary SQLite file unless TEST_DATABASE_URL is set (its tables are emptied)
simulate: $(STAMP)
	$(PY) -m tests.simulation.simulator --seed $${SIM_SEED:-1} --steps $${SIM_STEPS:-100000} --clients $${SIM_CLIENTS:-1} --quiet

openapi: $(STAMP)
	$(PY) -m app openapi > openapi.json
	@if [ -d node_modules ]; then npx --no-install openapi-typescript openapi.json -o clients/ts/schema.d.ts; \
	else echo "run 'npm ci --ignore-scripts' to regenerate clients/ts/schema.d.ts"; fi

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf var/*.db var/*.db-* var/demo-keys.json
