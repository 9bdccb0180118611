# Every developer task lives here. `make test` and `make demo` set up from nothing:
# a fresh machine needs only Python 3.11, make and git.

PYTHON ?= python3
# Bytecode is written, to the __pycache__ folders .gitignore leaves out, even where the environment
# says not to: pytest rewrites each test module's asserts and keeps the result only as bytecode, so
# without it every run spends 6 of the fast loop's seconds rewriting 300 modules again.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
# The other Pythons the package claims (pyproject's classifiers: 3.11 is $(PYTHON), in .venv).
# `make test` runs the whole suite on each, in its own venv (.venv-3.12, .venv-3.13); lint, types
# and the docs run once, on 3.11. Each is found as pythonX.Y in pyenv's versions, else on PATH.
OTHER_PYTHONS ?= 3.12 3.13
ifndef PYENV_ROOT
PYENV_ROOT := $(shell pyenv root 2>/dev/null)
endif
python_for = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1)))
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
GEN_PKG := pyclann/_generated
GENERATE = $(BIN)/openapi-python-client generate --path openapi.yaml --config generated/config.yaml \
	--custom-template-path generated/templates --meta none --overwrite --fail-on-warning
# Replays cassettes only; the only host a test may reach is a server it started on 127.0.0.1.
PYTEST := $(PY) -m pytest --record-mode=none --block-network --allowed-hosts=127.0.0.1

.PHONY: help setup test check lint types check-generated generate pytest pytest-fast examples record demo serve docs \
	docs-check chromium-present check-mock bench bench-check soak dist lock clean test-oldest test-newest

# `make help` prints each target's `##` comment: the Makefile is the one place they are written.
help: ## list the targets, with what each does
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z0-9%-]+:[^#]*## / {printf "make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Set-up runs only when the pins or the project metadata changed, so a second
# `make test` needs no network.
setup: $(STAMP) ## create .venv and install the pinned tools (skipped when nothing changed)
$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# One venv per other Python, made and filled the same way, and skipped the same way when nothing changed.
# Precious: make would otherwise delete a pattern rule's stamp after the run, and reinstall every time.
.PRECIOUS: .venv-%/.installed
.venv-%/.installed: requirements-dev.txt pyproject.toml
	@test -n "$(call python_for,$*)" || { echo "make test runs the suite on Python $*, found neither in pyenv ($(PYENV_ROOT)/versions/$*.*) nor as python$* on PATH: install it, or leave it out with OTHER_PYTHONS=" >&2; exit 1; }
	$(call python_for,$*) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	.venv-$*/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

test: lint types check-generated docs examples pytest $(addprefix pytest-,$(OTHER_PYTHONS)) test-newest ## set up, then lint, types, generated check, docs, the docs' examples run, every test on 3.11, 3.12 and 3.13, and the dev server's on its newest allowed releases; offline

# The fast loop: what `make test` checks that a change most often breaks, in under a minute.
check: lint types pytest-fast ## the fast loop: lint, types and the tests not marked slow (no subprocesses, no servers)

lint: $(STAMP) ## ruff, ruff format --check and the OpenAPI validator
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/openapi-spec-validator openapi.yaml

types: $(STAMP) ## mypy --strict on pyclann (the dev server included), tests, scripts, bench, examples and the docs' examples
	$(BIN)/mypy
	$(PY) scripts/check_doc_examples.py

generate: $(STAMP) ## rewrite pyclann/_generated from openapi.yaml, and the sync client from the async one
	PATH="$(CURDIR)/$(BIN):$$PATH" $(GENERATE) --output-path $(GEN_PKG)
	$(PY) scripts/unasync.py

check-generated: $(STAMP) ## fail if pyclann/_generated or the sync client differs from what its source generates
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(GENERATE) --output-path "$$tmp/_generated" >/dev/null && \
	if diff -r -x __pycache__ "$$tmp/_generated" $(GEN_PKG); then \
		echo "pyclann/_generated matches openapi.yaml"; \
	else \
		echo "pyclann/_generated is out of date with openapi.yaml: run 'make generate' and commit the result" >&2; exit 1; \
	fi
	$(PY) scripts/unasync.py --check

pytest: $(STAMP) ## every test on 3.11, cassettes replayed, no network beyond 127.0.0.1
	$(PYTEST)

# The ten slowest tests are listed, so a new slow test shows up in the fast loop and can be marked.
pytest-fast: $(STAMP) ## the tests not marked slow, with the ten slowest of them listed
	$(PYTEST) -m "not slow" --durations=10

pytest-%: .venv-%/.installed ## (pytest-3.12, pytest-3.13) every test on that Python, in .venv-3.12, .venv-3.13
	.venv-$*/bin/python -m pytest --record-mode=none --block-network --allowed-hosts=127.0.0.1

examples: $(STAMP) ## run every code example of README.md, DESCRIPTION.md and docs/ against a dev server
	$(PY) -m scripts.run_doc_examples
# The dev server's tests against the server extra's newest allowed releases, and against its
# oldest (a lowest-direct resolution: each of pyproject.toml's own dependencies at its lower
# bound, what they need at its newest). Each has a venv of its own, made from nothing with uv
# (pinned in the dev lock) and made again only when pyproject.toml or the dev lock changes.
# The test tools are the dev lock's; schemathesis is not among them: it caps jsonschema-rs
# below its newest release, so its conformance tests run in .venv alone. pyclann is installed
# from a wheel (an editable install needs `editables` at run time); the checkout's own code is
# what runs, first on sys.path under `python -m pytest`: the wheel gives the plugin's entry point.
SERVER_TESTS := tests/devserver tests/test_testing.py --ignore=tests/devserver/test_conformance.py
SERVER_TEST_TOOLS := pytest pytest-asyncio pytest-recording vcrpy starlette regress
define server_venv
$(1)/.installed: pyproject.toml requirements-dev.txt
	rm -rf $(1) && $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check "$$$$(grep -E '^uv==' requirements-dev.txt)"
	grep -i -E '^($(subst $(eval) ,|,$(SERVER_TEST_TOOLS)))==' requirements-dev.txt > $(1)/tools.txt
	$(1)/bin/uv pip compile --quiet --no-header pyproject.toml $(1)/tools.txt --extra server \
		--resolution $(2) --python $(1)/bin/python -o $(1)/requirements.txt
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python -r $(1)/requirements.txt
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --no-deps .
	touch $$@
endef
$(eval $(call server_venv,.venv-oldest,lowest-direct))
$(eval $(call server_venv,.venv-newest,highest))

test-oldest: .venv-oldest/.installed ## the dev server's tests on the oldest releases the server extra allows
	grep -i -E '^(uvicorn|h11|jsonschema-rs)==' .venv-oldest/requirements.txt
	.venv-oldest/bin/python -m pytest --record-mode=none --block-network --allowed-hosts=127.0.0.1 $(SERVER_TESTS)

test-newest: .venv-newest/.installed ## the dev server's tests on the newest releases the server extra allows
	grep -i -E '^(uvicorn|h11|jsonschema-rs)==' .venv-newest/requirements.txt
	.venv-newest/bin/python -m pytest --record-mode=none --block-network --allowed-hosts=127.0.0.1 $(SERVER_TESTS)

record: $(STAMP) ## re-record every cassette against a fresh dev server
	$(PY) -m scripts.record

demo: $(STAMP) ## set up, start a dev server, walk through every ChatClient method
	$(PY) -m examples.demo

PORT ?= 8765
serve: $(STAMP) ## the dev server in the foreground, on PORT (default 8765)
	$(PY) -m pyclann.devserver --port $(PORT)

# Not --quiet: it drops mkdocs' warnings before --strict counts them, so a broken
# link or a page left out of the nav would pass.
docs: $(STAMP) ## build the documentation site strictly into site/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Not part of `make test`: it needs a browser, which a fresh machine with only Python,
# make and git cannot set up from nothing. It uses the system's Chromium, never a download.
CHROMIUM ?= /usr/bin/chromium
DOCS_SHOTS := docs-screenshots
DOCS_CHECK_STAMP := $(VENV)/.docs-check-installed
$(DOCS_CHECK_STAMP): $(STAMP) requirements-docs-check.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-docs-check.txt
	touch $@

docs-check: chromium-present docs $(DOCS_CHECK_STAMP) ## render every page in headless Chromium: links, console errors, screenshots
	$(BIN)/mypy --strict scripts/docs_check.py
	$(PY) scripts/docs_check.py --chromium $(CHROMIUM) site $(DOCS_SHOTS)

chromium-present:
	@test -x $(CHROMIUM) || { echo "make docs-check needs Chromium at $(CHROMIUM): install it (Debian: apt-get install chromium) or pass CHROMIUM=/path/to/chromium" >&2; exit 1; }

# Not part of `make test`: it needs Node.js and npm, which a fresh machine with only Python, make
# and git does not have, and 90 MB of packages (CONTRIBUTING.md has the costs measured). Set-up is
# skipped, offline, once scripts/prism/package-lock.json is installed.
PRISM_DIR := scripts/prism
PRISM_STAMP := $(PRISM_DIR)/node_modules/.installed
$(PRISM_STAMP): $(PRISM_DIR)/package.json $(PRISM_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "make check-mock needs Node.js (20 or later) and npm: install them (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	cd $(PRISM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

check-mock: $(STAMP) $(PRISM_STAMP) ## a Prism mock of openapi.yaml: pyclann must accept every field of its answers
	$(PY) -m scripts.check_mock --prism $(PRISM_DIR)/node_modules/.bin/prism

bench: $(STAMP) ## the benchmarks: pyclann against raw httpx2, json.loads and peers, with their goals
	$(PY) -m bench

bench-check: $(STAMP) ## the benchmarks, failing if any goal is missed
	$(PY) -m bench --check

soak: $(STAMP) ## 5,000 calls, sync and async, through a faulting proxy, audited against the server
	$(PY) -m scripts.soak

# The release's files, built offline with the pinned build backend; CONTRIBUTING.md says how to check the wheel.
dist: $(STAMP) ## build the sdist and the wheel into dist/
	rm -rf dist
	$(PY) -m hatchling build -d dist

lock: ## re-pin requirements-dev.txt from requirements-dev.in
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install -q -r requirements-dev.in
	(echo "# Generated by 'make lock' from requirements-dev.in; installed by 'make setup'."; .lock-venv/bin/pip freeze) > requirements-dev.txt
	rm -rf .lock-venv

clean: ## remove the venvs and everything built
	rm -rf $(VENV) $(addprefix .venv-,$(OTHER_PYTHONS)) .venv-oldest .venv-newest site dist $(DOCS_SHOTS) $(PRISM_DIR)/node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis .schemathesis
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
