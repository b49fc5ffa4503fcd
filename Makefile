# The two commands of the README: `make demo` runs the system with demo data, `make test` runs
# the tests. Both set up the virtual environment first if it is missing or out of date.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench docs clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@# The official AsyncAPI parser checks docs/asyncapi in the tests where npm can fetch it.
	-command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix $(VENV)/node @asyncapi/parser@3.6.6
	touch $@

demo: $(VENV)/.installed
	$(BIN)/jianfu run --demo --fresh --data-dir var/demo

test: $(VENV)/.installed
	scripts/ensure-postgres
	$(BIN)/ruff check libs services tests bench deploy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(VENV)/.installed
	scripts/ensure-postgres
	@# The peer library (eventsourcing) for the peer_* figures; `python -m bench` leaves them out without it.
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench $(BENCH_ARGS)

docs: $(VENV)/.installed
	$(BIN)/jianfu asyncapi --out docs/asyncapi

clean:
	rm -rf var .pytest_cache
