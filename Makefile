# The README's two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench check clean postgres chromium install

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

# Debian's headless Chromium and its driver run the browser tests (tests/test_browser.py), and a small
# CJK font (about 5 MB) keeps the Chinese pages from showing boxes. Without recommends it is 27 packages,
# about 135 MB to download; `apt-get update` and the install take under 20 s on a fresh machine.
# When they are missing and cannot be installed here, the browser tests are skipped and say why.
chromium:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/chromedriver ] || missing="$$missing chromium-driver"; \
	fc-list :lang=zh-cn family 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-microhei"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing$$missing for the browser tests (apt-get install -y --no-install-recommends$$missing)"; \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; } \
			|| echo "could not install$$missing: the browser tests will be skipped"; \
	else \
		echo "missing for the browser tests:$$missing; run 'sudo apt-get install -y --no-install-recommends$$missing'" \
			"(the browser tests are skipped until then)"; \
	fi

run: install postgres
	$(BIN)/ugene serve

test: install postgres chromium
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
