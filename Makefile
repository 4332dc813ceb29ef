# avs-eval : commandes usuelles. Chaque cible crée l'environnement .venv s'il manque.
#   make rapports   rapports de la dernière année sur l'échantillon (ou vos données, voir README)
#   make test       toute la batterie de tests (lint, notebooks, tests unitaires et de bout en bout)
#   make test-rapide la même sans les tests lents (lots, noyaux, navigateur, pannes, nbval)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installe
ARGS   ?=
# The lock: every package at its exact version, for Linux and Windows (README, « Mettre à jour
# les dépendances »). Resolved for the lowest Python that pyproject.toml accepts, the one
# environment.yml asks conda for (tests/test_installation.py checks the three agree).
LOCK           := requirements/lock.txt
PYTHON_VERSION := 3.11
# The resolver, uv, at the version the lock pins.
UV_VERSION      = $(shell sed -n 's/^uv==\([^ ;]*\).*/\1/p' $(LOCK))
UV_COMPILE     := $(BIN)/uv pip compile pyproject.toml --all-extras --universal \
                  --python-version $(PYTHON_VERSION) --output-file $(LOCK) --quiet
# Every pinned package must have a wheel for Windows (the evaluators' laptops) and Linux.
UV_WHEELS      := $(BIN)/uv pip compile $(LOCK) --no-deps --only-binary :all: \
                  --python-version $(PYTHON_VERSION) --no-header --quiet

.DEFAULT_GOAL := aide
.PHONY: aide installer rapports bilan indicateurs valider test test-rapide lint format \
        verifier-notebooks references regenerer bench lab exemple nettoyer verrou mise-a-jour \
        verifier-verrou outil-uv

aide:
	@echo "make rapports   produire les rapports (échantillon intégré par défaut ; ARGS=\"--annee 2024\")"
	@echo "make bilan      produire le bilan du schéma (toutes les années ; ARGS=\"--fin 2025 --pdf\")"
	@echo "make test       lancer tous les tests"
	@echo "make test-rapide lancer les tests rapides (sans lots, noyaux, navigateur, pannes injectées ni nbval)"
	@echo "make lab        ouvrir JupyterLab sur les notebooks"
	@echo "make bench      mesurer les performances"
	@echo "make regenerer  régénérer ce qui découle du questionnaire : correspondance Google Forms et références des tests"
	@echo "make verrou     recalculer $(LOCK) après un changement des dépendances de pyproject.toml"
	@echo "make mise-a-jour passer toutes les dépendances à leur dernière version, puis tester"

# The environment is exactly the lock (all groups: runtime, explorer, tests, tools), then the
# project itself, editable, without dependencies; pip check catches a lock that misses one.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || { $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11 ou plus est nécessaire (PYTHON=$(PYTHON))" >&2; exit 1; }; \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --no-deps --requirement $(LOCK)
	$(BIN)/python -m pip install -qq --no-deps --editable .
	@# notebooks saved with their outputs stay clean for git (.gitattributes names the filter)
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  $(BIN)/python -c "from avs_eval import lab; lab.install_git_filter()"; fi
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
	  echo "$(LOCK) ne couvre pas les dépendances de pyproject.toml : lancez make verrou" >&2; \
	  exit 1; }
	@touch $(STAMP)

installer: $(STAMP)

# uv, the resolver, into .venv (make verrou works even before the first install).
outil-uv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv$(if $(UV_VERSION),==$(UV_VERSION))"

# The lock again from pyproject.toml, keeping every version it already pins that still fits.
verrou: outil-uv
	$(UV_COMPILE)
	@$(MAKE) --no-print-directory verifier-verrou
	@echo "$(LOCK) recalculé : relisez git diff $(LOCK), puis make test"

# Yearly: every package to its newest version, then the whole test battery.
mise-a-jour: outil-uv
	$(UV_COMPILE) --upgrade
	@$(MAKE) --no-print-directory verifier-verrou
	@git diff --stat -- $(LOCK) 2>/dev/null || true
	$(MAKE) --no-print-directory test
	@echo "Dépendances à jour et tests réussis : relisez git diff $(LOCK), puis committez-le"

verifier-verrou: outil-uv
	@$(UV_WHEELS) --python-platform x86_64-pc-windows-msvc >/dev/null \
	  || { echo "un paquet de $(LOCK) n'a pas de wheel pour Windows" >&2; exit 1; }
	@$(UV_WHEELS) --python-platform x86_64-manylinux_2_28 >/dev/null \
	  || { echo "un paquet de $(LOCK) n'a pas de wheel pour Linux" >&2; exit 1; }

rapports: $(STAMP)
	$(BIN)/avs-eval rapports $(ARGS)

bilan: $(STAMP)
	$(BIN)/avs-eval bilan $(ARGS)

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

# pytest on TEST_WORKERS processes (pytest-xdist), a test file each: a file's batch, made
# once for its tests, stays on one process, and so do a notebook's cells (nbval).
# Two by default (the machines' two cores: the tests wait on kernels and browsers half the
# time); TEST_WORKERS=0 runs everything in this process, e.g. to debug one failure.
TEST_WORKERS ?= 2
PYTEST_WORKERS = -n $(TEST_WORKERS) --dist loadfile

test: lint verifier-notebooks
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

# Everything but the tests marked `lent` (pyproject.toml) and nbval's notebook runs: the
# lane to run after each change; `make test` before a commit that matters, and in CI.
test-rapide: lint verifier-notebooks
	$(BIN)/python -m pytest $(PYTEST_WORKERS) -m "not lent" tests --ignore=tests/references

exemple: $(STAMP)
	$(BIN)/python -m avs_eval.sample

# .cache/ holds the secrecy audit's results, one per data set and threshold seen (methode.md)
nettoyer:
	rm -rf outputs .pytest_cache .ruff_cache .cache

# What follows from parameters/questionnaire.yaml and is committed: the shipped Google Forms
# mapping and the notebooks' reference executions (nbval). A test names this target when stale.
regenerer: $(STAMP)
	$(BIN)/python -m avs_eval.importer
	$(BIN)/python tests/make_references.py

references: $(STAMP)
	$(BIN)/python tests/make_references.py

# JupyterLab in French, its folders inside the project, opened on notebooks/LISEZMOI.md
# (avs_eval/lab.py; `avs-eval lab` does the same without make, e.g. with conda).
lab: $(STAMP)
	$(BIN)/python -m avs_eval.lab $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)
