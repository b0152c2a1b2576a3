# Every target creates or reuses .venv on its own; only Python 3.11 is needed.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CADRE_HOME ?= $(CURDIR)/var
export CADRE_HOME
# Airflow lives inside the data folder, so two data folders never share state.
export AIRFLOW_HOME ?= $(CADRE_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
AIRFLOW_PORT ?= 8080
PORTAL_PORT ?= 8090

.PHONY: venv demo test test-fast lint bench bench-quick sql airflow airflow-stop portal browser clean chaos cluster-deps cluster cluster-stop cluster-status

$(VENV)/.installed: setup.cfg constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,cluster]'
	touch $@

venv: $(VENV)/.installed

## demo: start $(CADRE_HOME) afresh (keeps its airflow/ DB), generate sample drops with faults,
## ingest them through the Airflow DAGs, build, review; runs any number of times
demo: venv
	$(BIN)/cadre demo --reset

## test: lint, the import contracts, the SQL lint, then the whole test suite
test: venv browser cluster-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/sqlfluff lint warehouse/
	$(BIN)/python -m pytest -n 2 --dist loadfile

## test-fast: unit tests only (no build, no Airflow, no subprocess; markers in setup.cfg), ~20 s
test-fast: venv
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not integration"

## chaos: cadre submit killed with SIGKILL at 200 random points, 20 submits at once, a full disk
chaos: venv
	CHAOS_POINTS=200 $(BIN)/python -m pytest -n 0 -p no:cacheprovider tests/test_chaos.py -q

lint: venv
	$(BIN)/ruff check .

## bench: ingest (CSV, XLSX) and build benchmarks (figures printed, nothing asserted); the last
## line is one JSON object with every figure and ratio
bench: venv
	$(BIN)/python -m pipelines.dev.bench

## bench-quick: the same at the smallest sizes only (10k cadres), a couple of minutes
bench-quick: venv
	$(BIN)/python -m pipelines.dev.bench --quick

## sql: a read-only SQL shell on the analysts' snapshot of $(CADRE_HOME) (cadre sql)
sql: venv
	$(BIN)/cadre sql

## airflow: local Airflow UI in the background with our DAGs (active on creation), sized to this
## machine, every listener on 127.0.0.1, state under $(CADRE_HOME)/airflow; prints the admin
## password last (also in $(CADRE_HOME)/airflow/admin_password.json)
airflow: venv
	$(BIN)/cadre airflow-start --port $(AIRFLOW_PORT)

## airflow-stop: stop every process `make airflow` started (by PID)
airflow-stop: venv
	$(BIN)/cadre airflow-stop

## portal: the units' portal (web pages + API) and its ingest worker on 127.0.0.1:$(PORTAL_PORT);
## prints the URL and, after `make demo`, the demo accounts
portal: venv
	$(BIN)/cadre portal serve --host 127.0.0.1 --port $(PORTAL_PORT)

## browser: Debian chromium and a CJK font for the portal's browser tests (apt-get when missing)
browser:
	@if command -v chromium >/dev/null && test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; then \
	  :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-wqy-microhei; fi

## cluster-deps: PostgreSQL and Redis from the distribution's packages, installed when missing
cluster-deps:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && command -v redis-server >/dev/null || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server >/dev/null; }

## cluster: production-shaped Airflow (PostgreSQL, Redis, scheduler, dag-processor, triggerer,
## API server on 127.0.0.1:$(AIRFLOW_PORT), two Celery workers); state under $(CADRE_HOME)/cluster
cluster: venv cluster-deps
	$(BIN)/cadre cluster start --port $(AIRFLOW_PORT)

cluster-stop: venv
	$(BIN)/cadre cluster stop

cluster-status: venv
	$(BIN)/cadre cluster status

clean:
	rm -rf var .pytest_cache .ruff_cache test-output
