# The two commands: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test test-fast lint bench clean

$(VENV)/.base: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# ui.first_run runs the app once as soon as the server answers: the first student finds it warm
run: $(VENV)/.base
	$(PY) -m ui.first_run $(PORT) & $(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Everything: lint, then every test (the browser tests need Debian's chromium; see .ci/run).
# The browser tests run after the rest, one at a time: each drives a served app and a Chromium.
test: lint
	$(PY) -m pytest -n 2 -m "not browser"
	$(PY) -m pytest -m browser

# The inner loop: every test that neither trains, nor drives a browser, nor spawns a process (about a minute).
test-fast: $(VENV)/.dev
	$(PY) -m pytest -n 2 -m "not browser and not slow and not subprocess"

bench: $(VENV)/.base
	$(PY) benchmarks/bench_analyze.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
