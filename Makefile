# deid — two commands on a fresh machine with only python3:
#   make demo   create .venv, install, de-identify the bundled sample data, print a summary
#   make test   create .venv, install, run the test suite and build the docs (strict)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_OUT ?= demo-output

.PHONY: all test demo docs fuzz bench bench-full lint clean venv

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.cfg
	$(BIN)/python -m pip install --quiet -e '.[test,data,pixels,dask,progress,docs]'
	touch $(STAMP)

venv: $(STAMP)

# pytest's own exit status is kept: 5 (no tests collected) fails the build.
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider
	$(BIN)/python -m ruff check deid tests tools benchmarks
	$(MAKE) docs

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet -f docs/mkdocs.yml -d ../.site

demo: $(STAMP)
	$(BIN)/python -m deid.demo --output $(DEMO_OUT)

fuzz: $(STAMP)
	DEID_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -q -p no:cacheprovider -m fuzz tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-full: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --full

lint: $(STAMP)
	$(BIN)/python -m ruff check deid tests tools benchmarks

clean:
	rm -rf .site $(DEMO_OUT) build dist *.egg-info
