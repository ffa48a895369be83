# tnlab: every target bootstraps .venv by itself on a fresh machine with Python 3.11, from the
# exact versions in requirements.lock (hashes checked). `make lock` refreshes the lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := sim models services tests benchmarks

.PHONY: demo test lint bench docs lab lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tnlab run experiments/quickstart.toml --out reports/quickstart

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy models

# The suite runs on 2 worker processes (pytest-xdist; tests/conftest.py keeps each file's
# tests together). One file or test: .venv/bin/python -m pytest -q tests/test_cli.py
test: lint
	$(BIN)/python -m pytest -q -n 2

# `make bench BENCH=--quick` (smaller inputs), `BENCH=--world` (the world only) or
# `BENCH=--big` (the national world: 10 M subscribers x 30 days, its time and peak memory).
BENCH ?=
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)

# `make docs` executes every notebook at its default parameters (papermill, in notebooks/;
# outputs go to each notebook's out_dir, outside the repository) and publishes it with its
# figures as docs/notebooks/<name>.html. One notebook: make docs NOTEBOOKS=notebooks/dni.ipynb
NOTEBOOKS ?= $(wildcard notebooks/*.ipynb)
EXECUTED := $(VENV)/notebooks-executed

docs: $(STAMP)
	@mkdir -p docs/notebooks $(EXECUTED)
	@for nb in $(NOTEBOOKS); do \
		name=$$(basename $$nb .ipynb); start=$$(date +%s); \
		(cd notebooks && ../$(BIN)/papermill --no-progress-bar --kernel python3 \
			$$name.ipynb ../$(EXECUTED)/$$name.ipynb) || exit 1; \
		$(BIN)/jupyter nbconvert --log-level WARN --to html --embed-images \
			--TemplateExporter.extra_template_basedirs=docs/notebooks --template template \
			--output-dir docs/notebooks $(EXECUTED)/$$name.ipynb || exit 1; \
		echo "$$name: $$(( $$(date +%s) - start )) s -> docs/notebooks/$$name.html"; \
	done

# JupyterLab is installed once (at the lock's versions of what it shares with tnlab).
LAB := $(VENV)/.lab-installed

$(LAB): | $(STAMP)
	sed -n 's/^\([A-Za-z0-9_.-]*==[^ ;]*\).*/\1/p' requirements.lock > $(VENV)/constraints.txt
	$(BIN)/pip install --quiet -c $(VENV)/constraints.txt 'jupyterlab>=4' 'ipywidgets>=8.1'
	touch $(LAB)

lab: $(LAB)
	$(BIN)/jupyter lab notebooks/

lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) reports/quickstart .pytest_cache .hypothesis
