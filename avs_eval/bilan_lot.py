"""`avs-eval bilan`: the schéma's bilan, made and published like a year of reports.

The bilan is one notebook (`notebooks/bilan.ipynb`) over a period of years. Rather
than a second publisher, it is a batch of one report: `BilanPlan` is a `planning.Plan`
whose one report is the bilan, so `batch.run_plan` gives it everything a year has
(validated data before any kernel, a staging folder swapped in whole, the previous
bilan kept when the notebook fails, the lock, the journal, the manifest, the PDF step)
and the same freshness: a bilan whose data, notebook, code, `parameters/` (follow-up
files included), options and `parameters/commentaires/bilan.md` did not change is
carried over without starting a kernel.

Published into `SORTIE/bilan-<debut>-<fin>/` (partners) or `…-interne/` (internal edition):
`bilan.ipynb`, `bilan.html`, `bilan.pdf` (with `--pdf`; `bilan-interne.pdf` internal),
`trajectoires.csv`, `evolutions.csv`, `suivi_actions.csv`, `bilan.xlsx`, and the batch's
`index.html` and `manifest.json`.

Light on purpose, like `planning`: no pandas until the data are read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path

from avs_eval import freshness, paths, planning
from avs_eval.config import Config, load_config, secrecy_threshold
from avs_eval.errors import UsageError
from avs_eval.execution import Job
from avs_eval.options import BatchOptions, shown_parameters
from avs_eval.output import write_atomic
from avs_eval.sources import DataSource, sha256

__all__ = [
    "BILAN_NOTEBOOK",
    "BilanPlan",
    "commentary_path",
    "folder_name",
    "period",
    "plan",
    "run",
    "write_commentary_template",
]

BILAN_NOTEBOOK = paths.NOTEBOOKS_DIR / "bilan.ipynb"
STEM = "bilan"
PREFIX = "bilan"


def folder_name(debut: int, fin: int) -> str:
    """`bilan-2022-2025`: the bilan's folder (the internal edition adds `-interne`)."""
    return f"{PREFIX}-{debut}-{fin}"


def period(
    config: Config, years: Iterable[int], debut: int | None = None, fin: int | None = None
) -> tuple[int, int]:
    """The bilan's period: the schéma's (`periode` of config.yaml) clipped to the data's years.

    A year given (`--debut`, `--fin`) must be a year with answers; the period spans at
    least two years, since it is about change.
    """
    present = sorted(int(y) for y in years)
    if not present:
        raise UsageError("aucune réponse dans les données : pas de bilan possible")
    known = ", ".join(str(y) for y in present)
    for name, given in (("--debut", debut), ("--fin", fin)):
        if given is not None and int(given) not in present:
            raise UsageError(
                f"{name} {given} : aucune réponse cette année-là (années disponibles : {known})"
            )
    start = int(debut) if debut is not None else max(config.debut, present[0])
    end = int(fin) if fin is not None else min(config.fin, present[-1])
    inside = [y for y in present if start <= y <= end]
    if start >= end or len(inside) < 2:
        raise UsageError(
            f"le bilan couvre au moins deux années d'enquête : période {start}-{end} "
            f"impossible (années disponibles : {known} ; schéma : {config.debut}-{config.fin})"
        )
    return start, end


# --- the evaluator's conclusions -------------------------------------------------------


def commentary_path() -> Path:
    """`parameters/commentaires/bilan.md`, looked up at each call (tests move the folder)."""
    return paths.PARAMETERS_DIR / "commentaires" / "bilan.md"


def commentary_template(config: Config) -> str:
    """The starting file of the bilan's conclusions: headings and how to write."""
    lines = [
        "<!-- Conclusions de l'évaluateur pour le bilan du schéma "
        f"{config.debut}-{config.fin} (fiche {config.code_fiche}). Ce texte paraît tel quel "
        "dans la section « Conclusions et recommandations » du bilan (édition partenaires "
        "comprise). -->",
        "<!-- Écrivez sous les titres utiles, supprimez les autres. Markdown : **gras**, "
        "*italique*, listes « - ». Pas d'image ni de HTML : ils s'affichent comme du texte. -->",
        "<!-- Un fichier laissé tel quel (titres seuls) n'ajoute rien au bilan. -->",
        "",
        "## Ce que le schéma a permis",
        "",
        "## Ce qui n'a pas abouti, et pourquoi",
        "",
    ]
    for action in config.actions:
        lines += [f"### Action {action.numero} : {action.court or action.intitule}", ""]
    lines += ["## Recommandations pour le prochain schéma", ""]
    return "\n".join(lines)


def write_commentary_template(config: Config | None = None) -> tuple[Path, bool]:
    """Write `bilan.md` from the template when it does not exist; never overwrite it.

    Returns the path and whether it was created.
    """
    path = commentary_path()
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, commentary_template(config or load_config()))
    return path, True


def commentary_digest() -> str:
    path = commentary_path()
    return sha256(path) if path.is_file() else ""


# --- the plan of a batch of one bilan -----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BilanEntry(freshness.Report):
    """The bilan as a report of its batch: at the top of its folder, page `bilan.html`."""

    @property
    def slug(self) -> str:
        return STEM

    @property
    def stem(self) -> str:
        return STEM


@dataclasses.dataclass
class BilanPlan(planning.Plan):
    """A batch of one report, the bilan of `debut`-`fin` (None: from the data's years).

    `year` holds the folder's label (`bilan-2022-2025`) once the period is known: it
    names the folder, the state, the journal and the manifest, as a year does.
    """

    debut: int | None = None
    fin: int | None = None
    asked: tuple[int | None, int | None] = (None, None)  # --debut, --fin as given

    @property
    def folder(self) -> str:
        return paths.year_folder(self.year, self.report.interne)

    def settle_period(self, years: Iterable[int]) -> None:
        """The period from the data's years; the plan's label and its one report."""
        self.debut, self.fin = period(load_config(), years, *self.asked)
        self.year = folder_name(self.debut, self.fin)
        self.reports = [BilanEntry(f"Bilan {self.debut}-{self.fin}", freshness.SYNTHESIS)]

    def commentaries(self) -> dict[str, str]:
        return {freshness.SYNTHESIS: commentary_digest()}

    def parameters(self) -> dict:
        """The notebook's parameters but `dossier_sortie`, in the notebook's order."""
        report = self.report
        return {
            "debut": self.debut,
            "fin": self.fin,
            "fichier_structures": report.fichier_structures,
            "fichier_reponses": report.fichier_reponses,
            "classeur": report.classeur,
            "min_effectif": report.min_effectif,
            "interne": report.interne,
        }

    def jobs(self, todo: list[freshness.Decision], staging: Path, final: Path) -> list[Job]:
        parameters = {**self.parameters(), "dossier_sortie": str(staging)}
        shown = {**shown_parameters(parameters), "dossier_sortie": paths.display_path(final)}
        title = f"Bilan {self.debut}-{self.fin} — évaluation PA 3.1.2"
        return [
            Job(decision.report.name, str(BILAN_NOTEBOOK), str(staging), parameters, title,
                STEM, shown)
            for decision in todo
        ]  # fmt: skip

    def read(self, say: Callable[[str], None]):
        """Validate the data and compute once; the period from the data's years."""
        from avs_eval.context import build_context

        context = build_context(self.source, self.report.min_effectif)  # ValidationError
        dataset = context.dataset
        self.settle_period(dataset.years)
        # the same record as a year's, so that either batch may recall the other's data
        slugs = planning.territory_folders(dataset.territories)
        self.data = {"annees": [int(y) for y in dataset.years], "territoires": slugs}
        return context

    def printer(self, staging: Path, parallel: int, printing):
        """The bilan's print step, after its one notebook (nothing to overlap)."""
        from avs_eval.printing import PrintAtEnd

        return PrintAtEnd(lambda made: self.print(made, staging, parallel, printing))

    def print(self, made, staging: Path, parallel: int, printing):
        """The bilan's PDF and Word file beside its page (no copy for sending: it is one
        document, and its folder is named for filing)."""
        from avs_eval.printing import Printed

        printed = Printed()
        pages = [(o.name, Path(o.folder) / f"{STEM}.html") for o in made]
        pages = [(name, page) for name, page in pages if page.is_file()]
        internal = self.report.interne
        if printing.pdf:
            from avs_eval.pdf import Document, print_documents

            documents = [Document.beside(n, p, internal) for n, p in pages]
            printed.pdf = print_documents(documents, printing.navigateur, parallel)
        if printing.docx:
            from avs_eval import word

            files = [
                word.WordFile(n, p, p.with_name(paths.edition_file(STEM, ".docx", internal)))
                for n, p in pages
            ]
            printed.word = word.write_documents(
                files,
                author=printing.auteur or "",
                template=printing.modele_word,
                internal_banner=word.INTERNAL_BANNER if internal else None,
            )
        return printed


def plan(options: BatchOptions, debut: int | None = None, fin: int | None = None) -> BilanPlan:
    """The plan step of a bilan: the inputs fingerprinted, the period when already known."""
    if not BILAN_NOTEBOOK.is_file():
        raise UsageError(f"notebook du bilan introuvable : {paths.display_path(BILAN_NOTEBOOK)}")
    given = options.report
    source = DataSource.from_options(
        given.fichier_structures, given.fichier_reponses, given.classeur
    )
    report = dataclasses.replace(
        given,
        fichier_structures=str(source.structures or ""),
        fichier_reponses=str(source.reponses or ""),
        classeur=str(source.classeur or ""),
        min_effectif=secrecy_threshold(given.min_effectif),
        interne=bool(given.interne),
    )
    shown_options = {
        "debut": debut if debut is not None else "",
        "fin": fin if fin is not None else "",
        "fichier_structures": report.fichier_structures,
        "fichier_reponses": report.fichier_reponses,
        "classeur": report.classeur,
        "min_effectif": report.min_effectif,
        "interne": report.interne,
    }
    dependencies = freshness.Dependencies.collect(
        source,
        [],
        [BILAN_NOTEBOOK],
        {**shown_parameters(shown_options), "pdf": options.pdf},
        paths.resolve(options.sortie),
    )
    batch = BilanPlan(
        options,
        report,
        source,
        paths.resolve(options.sortie),
        BILAN_NOTEBOOK,
        dependencies,
        asked=(debut, fin),
    )
    _recall(batch)
    batch.workers = 1
    return batch


def _recall(batch: BilanPlan) -> None:
    """Data already read by a batch into this output folder: the period without reading.

    With the bilan up to date, nothing is read and no kernel starts.
    """
    if batch.options.tout:
        return
    known = freshness.known_data(batch.root, batch.dependencies.components["donnees"])
    if known is None:
        return
    try:
        batch.settle_period(known["annees"])
    except UsageError:  # said once the data are read, with the same words
        batch.year, batch.reports = None, []
        return
    batch.data = known
    batch.predicted = batch.decide(
        freshness.read_state(batch.root, batch.folder),
        batch.root / batch.folder,
        batch.commentaries(),
    )
    batch.idle = not any(decision.remake for decision in batch.predicted)


def run(options: BatchOptions, debut: int | None = None, fin: int | None = None, say=None):
    """Make and publish the bilan (`batch.run_plan` with a plan of one notebook)."""
    from avs_eval import batch

    chosen = plan(options, debut, fin)
    return batch.run_plan(chosen) if say is None else batch.run_plan(chosen, say)
