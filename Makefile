# avs-eval : commandes usuelles. Chaque cible crée l'environnement .venv s'il manque.
#   make rapports   rapports de la dernière année sur l'échantillon (ou vos données, voir README)
#   make test       toute la batterie de tests (lint, notebooks, tests unitaires et de bout en bout)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installe
ARGS   ?=
# Jupyter's configuration, data and runtime files (and IPython's) stay inside the project.
JUPYTER_ENV := JUPYTER_CONFIG_DIR="$(CURDIR)/.jupyter/config" \
               JUPYTER_DATA_DIR="$(CURDIR)/.jupyter/data" \
               JUPYTER_RUNTIME_DIR="$(CURDIR)/.jupyter/runtime" \
               IPYTHONDIR="$(CURDIR)/.jupyter/ipython" \
               JUPYTER_PREFER_ENV_PATH=1

.DEFAULT_GOAL := aide
.PHONY: aide installer rapports indicateurs valider test lint format verifier-notebooks \
        references bench lab exemple nettoyer

aide:
	@echo "make rapports   produire les rapports (échantillon intégré par défaut ; ARGS=\"--annee 2024\")"
	@echo "make test       lancer tous les tests"
	@echo "make lab        ouvrir JupyterLab sur les notebooks"
	@echo "make bench      mesurer les performances"
	@echo "make references régénérer les exécutions de référence des notebooks (tests nbval)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

installer: $(STAMP)

rapports: $(STAMP)
	$(BIN)/avs-eval rapports $(ARGS)

indicateurs: $(STAMP)
	$(BIN)/avs-eval indicateurs $(ARGS)

valider: $(STAMP)
	$(BIN)/avs-eval valider $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

verifier-notebooks: $(STAMP)
	$(BIN)/nbstripout --verify notebooks/*.ipynb

test: lint verifier-notebooks
	$(BIN)/python -m pytest

exemple: $(STAMP)
	$(BIN)/python -m avs_eval.sample

nettoyer:
	rm -rf outputs .pytest_cache .ruff_cache

references: $(STAMP)
	$(BIN)/python tests/make_references.py

lab: $(STAMP)
	@$(JUPYTER_ENV) $(BIN)/jupyter labextension list 2>&1 \
	  | grep -q 'jupyter-widgets/jupyterlab-manager.*enabled' \
	  || { echo "extension ipywidgets absente de $(VENV) : relancez make installer" >&2; exit 1; }
	$(JUPYTER_ENV) $(BIN)/jupyter lab --notebook-dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)
