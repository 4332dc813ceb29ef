"""Where things are: every path of the project derives from the root anchored here.

A notebook run from JupyterLab, from Papermill or from the batch, from whatever
working directory, resolves relative paths against the same root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from avs_eval.schema import normalise

PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
PARAMETERS_DIR: Path = PROJECT_ROOT / "parameters"
CONFIG_FILE: Path = PARAMETERS_DIR / "config.yaml"
CATALOG_FILE: Path = PARAMETERS_DIR / "questionnaire.yaml"
SAMPLE_DIR: Path = PROJECT_ROOT / "data" / "exemple"
SAMPLE_STRUCTURES: Path = SAMPLE_DIR / "structures.csv"
SAMPLE_RESPONSES: Path = SAMPLE_DIR / "reponses.csv"
# the sample's commune -> territory table, and the shipped map background (IGN, 2018)
SAMPLE_COMMUNE_TERRITORIES: Path = SAMPLE_DIR / "communes_territoires.csv"
DEFAULT_BACKGROUND: Path = PROJECT_ROOT / "data" / "fond_de_carte" / "communes-69.geojson"
COMMENTARY_DIR: Path = PARAMETERS_DIR / "commentaires"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
OUTPUTS_DIR: Path = PROJECT_ROOT / "outputs"
# Results of the secrecy audit, by the content they were computed from (not committed):
# the audit costs minutes on a year's table, and the same table is masked by every batch,
# notebook and explorer that reads the same data.
AUDIT_CACHE_DIR: Path = PROJECT_ROOT / ".cache" / "audit"
# Set by the batch for its kernels: the file of the pickled Context they share. Here,
# not in context.py, so that the batch's parent can set it without importing pandas.
CONTEXT_ENV = "AVS_EVAL_CONTEXTE"


def resolve(path: str | Path) -> Path:
    """An absolute path; a relative one is taken from the project root, not the cwd."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p


def display_path(path: str | Path) -> str:
    """A path as shown to readers: relative to the project root when inside it.

    Reports travel outside the Caf, so they must not reveal the layout (or the
    user name) of the machine that produced them.
    """
    p = resolve(path)
    try:
        return p.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return p.name


def as_typed(path: str | Path) -> str:
    """A path as typed in the terminal: relative to the current folder when below it.

    For the evaluator's messages; reports use `display_path`, which never names the machine.
    """
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if relative.startswith("..") else relative


# --- the year's folder that a batch publishes: SORTIE/ANNEE, sent to partners ---------------

INTERNAL_SUFFIX = "-interne"  # SORTIE/ANNEE-interne: the internal edition, never sent
INDEX = "index.html"  # the year's table of contents
MANIFEST = "manifest.json"  # the batch's provenance
ENVOI = "envoi"  # the year's subfolder of PDFs and Word files named for filing: <slug>-<année>.pdf
PRINTED = (".pdf", ".docx")  # what the print step writes beside a report's HTML


def year_folder(year: int | str, internal: bool) -> str:
    """The name of a year's folder: the internal edition never goes into the partners' one."""
    return f"{year}{INTERNAL_SUFFIX}" if internal else str(year)


def envoi_name(slug: str, year: int | str, extension: str = ".pdf") -> str:
    """A report's PDF (or Word file) named for sending and filing, relative to the year's
    folder. The internal edition has none: it is not to be sent."""
    return f"{ENVOI}/{slug}-{year}{extension}"


def edition_file(stem: str, extension: str, internal: bool) -> str:
    """A report's PDF or Word file beside its HTML: `rapport.pdf`, `rapport-interne.pdf`.

    A file sent by mail travels without its folder: its own name says it is internal.
    """
    return f"{stem}{INTERNAL_SUFFIX if internal else ''}{extension}"


# --- a territory's folder name --------------------------------------------------------------


def slug(name: str) -> str:
    """File-system name of a territory: "Val d'Yzeron" -> "val-d-yzeron"."""
    return re.sub(r"[^a-z0-9]+", "-", normalise(name)).strip("-")


# The slug names the territory's folder, its PDF for sending (`<slug>-<année>.pdf`) and
# its commentary (`<slug>.md`). A file name is at most 255 bytes, and Windows limits a
# whole path to 260 characters by default: below an output folder of the usual depth,
# 80 leaves room (a 310-character name passed `valider`, then failed at `rapports`).
MAX_FOLDER_NAME = 80

# Names a territory's folder may not take: a year's folder already holds them, or
# Windows refuses them as file names (CON, NUL, COM1…, whatever the extension).
RESERVED_FOLDERS: dict[str, str] = {
    ENVOI: "le dossier des PDF à envoyer",
    INDEX.removesuffix(".html"): "le sommaire de l'année",
    MANIFEST.removesuffix(".json"): "le manifeste de l'année",
    INTERNAL_SUFFIX.strip("-"): "l'édition interne",
    "synthese": "la synthèse (sa page et son commentaire synthese.md)",
    **dict.fromkeys(
        ["con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)),
         *(f"lpt{n}" for n in range(1, 10))],
        "un nom de fichier que Windows refuse",
    ),
}  # fmt: skip


def folder_name_problem(folder: str) -> str | None:
    """Why a territory cannot have this folder name, in French; None when it can."""
    if len(folder) > MAX_FOLDER_NAME:
        return (
            f"nom trop long pour un nom de dossier : {len(folder)} caractères une fois "
            f"converti (« {folder[:40]}… »), au plus {MAX_FOLDER_NAME}. Raccourcissez-le"
        )
    if folder in RESERVED_FOLDERS:
        return (
            f"nom réservé : son dossier « {folder} » serait confondu avec "
            f"{RESERVED_FOLDERS[folder]}. Renommez le territoire"
        )
    return None
