# Two commands (see README): `make run` and `make test`. Only Python 3.10+ and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test test-fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install reglab and run the main job: the notebook's three-model comparison on the default data.
run: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/reglab compare

# Install what the tests need and run the whole test suite. The web page's browser tests drive Debian's chromium:
# installed here (apt-get) when running as root on Debian and it is missing; elsewhere they skip, saying why
# (and fail in CI, where CI=true).
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium for the browser tests (apt-get install chromium)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: the browser tests will be skipped"; \
	fi
	$(BIN)/python -m pytest -m "slow or not slow"

# The everyday loop: every test but those in tests/slow/ (plain `pytest` does the same).
test-fast: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pytest

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python benchmarks/bench_engines.py
	$(BIN)/python benchmarks/bench_compare.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
