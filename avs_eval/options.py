"""The options of a report and of a batch, declared once.

`ReportOptions` is what a report shows, in the names of the notebooks' `parameters`
cells (a fixed interface: Papermill injects these names); the command line builds it,
the batch hands it to every notebook, and the report classes take it. `BatchOptions`
adds what only the batch needs (which reports, how many workers, PDF, Word, journal…).

The command line takes its defaults from here (`default_of`), so no default is typed
twice. No heavy import: the command line and the batch's parent import this module
before anything else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import paths

__all__ = ["PATH_OPTIONS", "BatchOptions", "ReportOptions", "default_of", "shown_parameters"]

# shown to readers without the machine's path (with the fichier_* options)
PATH_OPTIONS = ("classeur", "fond_de_carte", "communes_territoires")


@dataclass(frozen=True)
class ReportOptions:
    """What every report of a batch is made with: the notebooks' parameters but two.

    The two others differ from report to report: `territoire` ("" for the synthesis)
    and `dossier_sortie`; `parameters` adds them. Empty strings mean the defaults:
    the sample's data, the shipped commune shapes, no commune table (sample aside).
    """

    annee: int | None = None  # None: the last year with answers
    fichier_structures: str = ""
    fichier_reponses: str = ""
    classeur: str = ""
    min_effectif: int | None = None  # None: parameters/config.yaml's threshold
    verbatims: bool = False
    interne: bool = False
    fond_de_carte: str = ""
    champ_insee: str = "code"
    communes_territoires: str = ""
    dossier_sortie: str = ""

    def common(self) -> dict:
        """The parameters every notebook of the batch shares, in the order it gives them."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "dossier_sortie"}

    def parameters(self, territoire: str, dossier_sortie: str) -> dict:
        """One notebook's Papermill parameters."""
        return {**self.common(), "territoire": territoire, "dossier_sortie": dossier_sortie}


def shown_parameters(parameters: dict) -> dict:
    """Parameters as a reader may see them: paths relative to the project, no empty value."""
    return {
        key: (
            paths.display_path(value) if key.startswith("fichier") or key in PATH_OPTIONS else value
        )
        for key, value in parameters.items()
        if value != ""
    }


@dataclass(frozen=True)
class BatchOptions:
    """`avs-eval rapports`: the reports' options and those of the batch itself."""

    report: ReportOptions = field(default_factory=ReportOptions)
    territoires: tuple[str, ...] | None = None  # None: every territory
    tout: bool = False  # re-make everything, changed or not
    jobs: int | None = None  # None: the cores, at most the reports to make
    sortie: str | Path = "outputs"  # the command line takes it from the current folder
    pdf: bool = False
    navigateur: str | None = None  # a path, or a command found on PATH
    docx: bool = False  # the Word edition beside each HTML (avs_eval.word)
    modele_word: str | None = None  # the Word template; None: config.yaml's, or the shipped one
    noyau_neuf: bool = False  # a new kernel per notebook
    delai: int = 600  # seconds per notebook
    modele: str | None = None  # the territory notebook, in place of the shipped one
    journal: str | None = None  # None: SORTIE/journaux/ANNEE-DATE-HEURE.txt
    progress: bool = True  # the progress bar on stderr


def default_of(options: type, name: str) -> object:
    """The default of one field of an options dataclass (for the command line's table)."""
    for item in dataclasses.fields(options):
        if item.name == name:
            return item.default
    raise KeyError(name)
