# The two commands: `make run` serves the API with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: install install-test run test lint bench profiles clean chromium pango poppler portal

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/ryggrad packages
	$(MAKE) --no-print-directory pango
	touch $@

install-test: install $(VENV)/.installed-test

$(VENV)/.installed-test: pyproject.toml ig/package-lock.json portal/package-lock.json
	$(BIN)/python -m pip install --quiet -e '.[test]'
	if command -v npm >/dev/null; then \
	  npm ci --prefix ig --no-audit --no-fund --loglevel=error && \
	  npm install --no-save --prefix portal --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Implementation Guide and renderer tests will skip"; fi
	$(MAKE) --no-print-directory chromium
	$(MAKE) --no-print-directory poppler
	touch $@

# Debian's Chromium for the pages' browser tests (Playwright cannot download its own browsers here); without root or
# the package index, those tests skip and say why
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }) \
	      || echo "could not install chromium: the browser tests will skip"; \
	  else echo "chromium is not installed (as root: apt-get install chromium): the browser tests will skip"; fi; }

# Debian's pango, which WeasyPrint lays the units' PDF reports out with (`ryggrad report --format pdf`); without
# root or the package index, PDF reports fail with the reason and their tests skip
pango:
	@/sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null 2>&1 || { apt-get update -qq && \
	      apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; }) \
	      || echo "could not install pango: PDF reports and their tests will not work"; \
	  else echo "pango is not installed (as root: apt-get install libpango-1.0-0 libpangoft2-1.0-0): PDF reports will not work"; fi; }

# Debian's poppler-utils (pdftoppm, pdftotext), with which the report tests render the PDFs' pages; without root or
# the package index, those tests skip and say why
poppler:
	@command -v pdftoppm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq poppler-utils >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }) \
	      || echo "could not install poppler-utils: the PDF page tests will skip"; \
	  else echo "pdftoppm is not installed (as root: apt-get install poppler-utils): the PDF page tests will skip"; fi; }

# the portal's pages (portal/, Vite) built into portal/dist, which the API serves at /portal and /clinic
portal: portal/dist/index.html

portal/dist/index.html: $(shell find portal/src -type f 2>/dev/null) portal/index.html portal/vite.config.js portal/package.json
	@if command -v npm >/dev/null; then \
	  test -d portal/node_modules/vite || npm install --no-save --prefix portal --no-audit --no-fund --loglevel=error; \
	  cd portal && npx vite build --logLevel warn; \
	else echo "npm not found: the portal is not built (the API answers 503 at /portal)"; fi

# (portal: `npm install --no-save` keeps the lock's versions; `npm ci` trips over rollup's per-platform optional
# packages, which a lock written on one platform does not list)
# the Implementation Guide (ig/, FSH) compiled offline by SUSHI into profiles/ (committed: running needs no Node),
# then the registry forms' flat datasets generated from its Questionnaires (mappings/views/forms/, …/dictionary/)
profiles: install-test
	$(BIN)/python ig/build_profiles.py
	$(BIN)/python ig/views/build_form_views.py

# `make run` is for one machine: the development issuer (`ryggrad token`) on 127.0.0.1, unless set otherwise
run: export RYGGRAD_AUTH ?= dev
run: install portal
	$(BIN)/ryggrad migrate
	$(BIN)/ryggrad load profiles
	$(BIN)/ryggrad demo
	$(BIN)/ryggrad serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the benchmark suite, one report per run in bench/results/ (not part of `make test`):
#   make bench [BACKEND=postgresql|sqlite] [SIZE=100k|1m] [ONLY=ingest,read,...] [QUICK=1] [BENCH_ARGS=...]
bench: install-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run $(if $(BACKEND),--backend $(BACKEND)) $(if $(SIZE),--size $(SIZE)) \
	  $(if $(ONLY),--only $(ONLY)) $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .ryggrad .pytest_cache ig/node_modules ig/fsh-generated portal/node_modules
