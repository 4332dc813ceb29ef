# avs-eval : commandes usuelles. Chaque cible crée l'environnement .venv s'il manque.
#   make rapports   rapports de la dernière année sur l'échantillon (ou vos données, voir README)
#   make test       toute la batterie de tests (lint, notebooks, tests unitaires et de bout en bout)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installe
ARGS   ?=

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

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)
