# Sparsity Lab — two commands set everything up on a fresh machine with Python 3.11:
#   make run   create .venv, install, start the app on http://127.0.0.1:8501
#   make test  same environment, run the whole suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# beside the numba cache it stands for, so each checkout warms its own
WARM   := engine/graphs/__pycache__/.kernels-warm

.PHONY: run test venv bench clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# SSumM's numba kernels compile once into numba's cache here, not in a user's first run
$(WARM): $(STAMP) engine/graphs/_ssumm_numba.py
	$(PY) -m engine.graphs.warmup
	@mkdir -p $(dir $(WARM)) && touch $(WARM)

venv: $(WARM)

run: $(WARM)
	$(PY) -m streamlit run streamlit_app.py

test: $(WARM)
	$(PY) -m pytest --doctest-modules -q

bench: $(WARM)
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
