# The README's two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench check clean postgres install

install: $(STAMP)

# The example plugin is installed as an operator would install any plugin (not editable), so the
# tests drive it exactly as it ships.
PLUGIN := examples/ugene-profile
PLUGIN_FILES := $(shell find $(PLUGIN) -type f -not -path '*/build/*' -not -path '*.egg-info*' -not -name '*.pyc')

$(STAMP): setup.cfg pyproject.toml $(PLUGIN_FILES)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q ./$(PLUGIN)
	@touch $@

# PostgreSQL's server binaries (initdb, pg_ctl) run the embedded database.
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing PostgreSQL (apt-get install -y postgresql)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	else \
		echo "PostgreSQL server binaries are missing: run 'sudo apt-get install -y postgresql'"; exit 1; \
	fi

run: install postgres
	$(BIN)/ugene serve

test: install postgres
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The security and reliability selection (attacks, fuzzing, log checks): a few minutes, also part of `test`.
check: install postgres
	$(BIN)/python -m pytest -q -p no:cacheprovider -m check

# Speed goals are measured here, never in timed tests: figures and ratios against a bare baseline
# (README, "Benchmarks"). bench/show_users.py alone times the admin listing's queries.
bench: install postgres
	@command -v wrk >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing wrk (apt-get install -y wrk)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
	else \
		echo "wrk is missing: run 'sudo apt-get install -y wrk'"; exit 1; \
	fi
	@command -v taskset >/dev/null 2>&1 || { echo "taskset is missing: install util-linux"; exit 1; }
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .ugene build *.egg-info

# A fixed-rate mix against a real `ugene serve` on a temporary embedded PostgreSQL, then a consistency
# check (docs/reliability.md). Not part of `make test`. SOAK_SECONDS (60), SOAK_RATE (40/s), SOAK_OUT.
.PHONY: soak
soak: install postgres
	$(BIN)/python -m tests.soak.run
