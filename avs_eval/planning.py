"""The plan of a batch: which reports, made from what, and which of them to re-make.

Before a single row is read, what every report depends on is fingerprinted
(`freshness`) and, when the data were already read by a batch into the same output
folder, their years and territories are known: a batch with nothing to re-make then
needs neither the data nor a kernel. Otherwise `read` validates the data and computes
once, in the parent, what the kernels share.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import commentaires, freshness, paths, publication
from avs_eval.config import secrecy_threshold
from avs_eval.errors import UsageError
from avs_eval.execution import Job
from avs_eval.options import BatchOptions, ReportOptions, default_of, shown_parameters
from avs_eval.printing import PrintOptions
from avs_eval.sources import DataSource

__all__ = ["SYNTHESIS_NOTEBOOK", "TERRITORY_NOTEBOOK", "Plan", "plan"]

TERRITORY_NOTEBOOK = paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb"
SYNTHESIS_NOTEBOOK = paths.NOTEBOOKS_DIR / "synthese.ipynb"
SYNTHESIS_NAME = "Synthèse"


@dataclass
class Plan:
    """What a batch is made from and what it is to make, before any notebook runs.

    `year`, `reports` and `data` are known from an earlier batch's state, or once the
    data are read (`read`).
    """

    options: BatchOptions
    report: ReportOptions  # data files as found, threshold from parameters/ when not given
    source: DataSource
    root: Path  # the output folder
    notebook: Path  # the territories' notebook
    dependencies: freshness.Dependencies
    year: int | None = None
    reports: list[freshness.Report] = field(default_factory=list)
    data: dict | None = None  # the data's years and territories, for the state
    predicted: list[freshness.Decision] = field(default_factory=list)  # before the lock
    idle: bool = False  # nothing to re-make: no data read, no worker started
    workers: int = 1  # how many workers to start

    @property
    def folder(self) -> str:
        """The year's folder name (the internal edition apart from the partners' one)."""
        return paths.year_folder(self.year, self.report.interne)

    def commentaries(self) -> dict[str, str]:
        """Each report's commentary fingerprint ("" when it has none)."""
        return {
            report.folder: freshness.commentary_digest(self.year, report.slug)
            for report in self.reports
        }

    def decide(
        self, state: dict, final: Path, commentaries: dict[str, str]
    ) -> list[freshness.Decision]:
        """What the batch re-makes and carries over, report by report (`freshness.plan`)."""
        return freshness.plan(
            self.reports,
            state,
            final,
            self.year,
            self.dependencies,
            commentaries,
            asked=self.options.territoires,
            everything=self.options.tout,
        )

    def fingerprint(self, commentaries: dict[str, str]) -> str:
        """What the whole batch is made from: a batch kept ready to publish must match it."""
        return freshness.batch_fingerprint(
            self.dependencies, commentaries, self.options.territoires
        )

    def parameters(self) -> dict:
        """The parameters every notebook shares, with the year as read."""
        return dataclasses.replace(self.report, annee=self.year).common()

    def read(self, say: Callable[[str], None]):
        """The read step (`read`): the Context the kernels share."""
        return read(self, say)

    def printer(self, staging: Path, parallel: int, printing):
        """The print step (--pdf, --docx) as the reports come: each report re-made, with
        its copy for sending, printed as soon as its page is ready.

        `printing`: the batch's `printing.PrintOptions`, checked."""
        from avs_eval.printing import PrintQueue

        return PrintQueue(staging, self.year, self.report.interne, printing, parallel)

    def jobs(self, todo: list[freshness.Decision], staging: Path, final: Path) -> list[Job]:
        """The notebooks to run: one per report to re-make."""
        report_options = dataclasses.replace(self.report, annee=self.year)
        # the page's title: the PDF's title and running header, the Word file's title
        edition = " — édition interne" if self.report.interne else ""
        work = []
        for decision in todo:
            report = decision.report
            synthesis = report.folder == freshness.SYNTHESIS
            folder = staging / report.folder
            parameters = report_options.parameters("" if synthesis else report.name, str(folder))
            shown = {
                **shown_parameters(parameters),
                "dossier_sortie": paths.display_path(final / report.folder),
            }
            work.append(
                Job(
                    report.name,
                    str(SYNTHESIS_NOTEBOOK if synthesis else self.notebook),
                    str(folder),
                    parameters,
                    f"{report.name} — évaluation PA 3.1.2, {self.year}{edition}",
                    "synthese" if synthesis else "rapport",
                    shown,
                )
            )
        return work


def plan(options: BatchOptions) -> Plan:
    """The plan step: the inputs found and fingerprinted, and what is known of the data."""
    notebook = paths.resolve(options.modele or TERRITORY_NOTEBOOK)
    if not notebook.is_file():
        raise UsageError(f"notebook de rapport introuvable : {notebook.name}")
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
        verbatims=bool(given.verbatims),
        interne=bool(given.interne),
        fond_de_carte=str(given.fond_de_carte or ""),
        champ_insee=given.champ_insee or default_of(ReportOptions, "champ_insee"),
        communes_territoires=str(given.communes_territoires or ""),
    )
    root = paths.resolve(options.sortie)
    maps = [path for file in _map_files(source, report) for path in freshness.with_companions(file)]
    _check_output(root, [*source.files, *maps, notebook])
    shown_options = {k: v for k, v in report.common().items() if k != "annee"}
    dependencies = freshness.Dependencies.collect(
        source,
        _map_files(source, report),
        [notebook, SYNTHESIS_NOTEBOOK],
        {**shown_parameters(shown_options), **PrintOptions.of(options).fingerprint()},
        root,
    )
    year = int(given.annee) if given.annee is not None else None
    batch = Plan(options, report, source, root, notebook, dependencies, year)
    _recall(batch)
    # min(cores, reports to make); before the data are read, the reports are counted
    # from --territoire only (every territory otherwise: never fewer than the cores)
    batch.workers = max(1, options.jobs or os.cpu_count() or 1)
    if options.territoires:  # the territories and the synthesis
        batch.workers = min(batch.workers, len(options.territoires) + 1)
    elif batch.data is not None:
        remade = sum(1 for decision in batch.predicted if decision.remake)
        batch.workers = min(batch.workers, max(remade, 1))
    return batch


def _check_output(root: Path, inputs: list[Path]) -> None:
    """Refuse an output folder that would lose the user's files, or re-make all each time.

    A batch replaces the year's folder whole (and its staging and internal siblings):
    an input file inside one of them would be deleted with the old year. An output
    folder inside `parameters/` would be fingerprinted as parameters, so that every
    batch re-made every report. Nothing is written before these checks.
    """
    where = root.resolve()
    # fingerprinted whole: an output folder inside would change what the next batch is from
    fingerprinted = {"parameters/": paths.PARAMETERS_DIR, "avs_eval/": Path(__file__).parent}
    for label, folder in fingerprinted.items():
        folder = folder.resolve()
        if where == folder or folder in where.parents:
            raise UsageError(
                f"le dossier de sortie {paths.as_typed(root)} est dans {label} : tout ce qui "
                f"s'y trouve compte pour les rapports, qui seraient tous refaits à chaque lot. "
                "Choisissez un dossier de sortie hors de parameters/ et de avs_eval/ "
                "(par défaut : outputs)"
            )
    for path in inputs:
        try:
            first = path.resolve().relative_to(where).parts[0]
        except (ValueError, IndexError):
            continue
        if publication.replaced_by_batches(first):
            raise UsageError(
                f"le fichier d'entrée {paths.as_typed(path)} est dans "
                f"{paths.as_typed(root / first)}, un dossier que la production des rapports "
                "remplace en entier : il serait supprimé. Déplacez-le hors du dossier de "
                "sortie (par exemple dans data/), puis relancez. Rien n'a été modifié"
            )


def _recall(batch: Plan) -> None:
    """Data already read by a batch into this output folder: their years and territories.

    Known, a batch with nothing to re-make needs neither the data nor a kernel.
    """
    options = batch.options
    if options.territoires or options.tout:
        return
    known = freshness.known_data(batch.root, batch.dependencies.components["donnees"])
    if known is None or (batch.year is not None and batch.year not in known["annees"]):
        return
    batch.year = batch.year if batch.year is not None else max(known["annees"])
    batch.reports = _reports(known["territoires"])
    batch.data = known
    batch.predicted = batch.decide(
        freshness.read_state(batch.root, batch.folder),
        batch.root / batch.folder,
        batch.commentaries(),
    )
    batch.idle = not any(decision.remake for decision in batch.predicted)


def _map_files(source: DataSource, report: ReportOptions) -> list[Path]:
    """The map files the reports read: given by option, or the shipped defaults."""
    files = [
        paths.resolve(report.fond_de_carte) if report.fond_de_carte else paths.DEFAULT_BACKGROUND
    ]
    if report.communes_territoires:
        files.append(paths.resolve(report.communes_territoires))
    elif source.is_sample:
        files.append(paths.SAMPLE_COMMUNE_TERRITORIES)
    return files


def read(batch: Plan, say: Callable[[str], None]):
    """The read step: validate the data and compute once; the Context the kernels share.

    Sets the plan's year, reports and data record. What does not join on the maps (a
    commune missing from the shapes…) is said, not fatal.
    """
    # imported once the workers are on their way: pandas and SciPy take a second
    from avs_eval.context import build_context
    from avs_eval.loading import unknown_territory_message

    context = build_context(batch.source, batch.report.min_effectif)  # raises ValidationError
    dataset = context.dataset
    year = int(batch.year) if batch.year is not None else max(dataset.years)
    if year not in dataset.years:
        known = ", ".join(str(y) for y in dataset.years)
        raise UsageError(f"aucune réponse pour l'année {year} (années disponibles : {known})")
    for name in batch.options.territoires or []:
        if name not in dataset.territories:
            raise UsageError(unknown_territory_message(name, dataset.territories))
    batch.year, batch.reports = year, _reports(territory_folders(dataset.territories))
    # the map background, built once for the batch
    report = batch.report
    background = context.background(
        report.fond_de_carte, report.champ_insee, report.communes_territoires
    )
    for line in background.warning_lines():
        say(f"avertissement (cartes) : {line}")
    batch.data = {
        "annees": [int(y) for y in dataset.years],
        "territoires": {r.name: r.folder for r in batch.reports if r.folder != freshness.SYNTHESIS},
    }
    return context


def territory_folders(names: list[str]) -> dict[str, str]:
    """Each territory's folder name (the year's batch and the bilan); two territories
    may not share one, nor take the synthesis's."""
    slugs: dict[str, str] = {}
    for name in names:
        folder = paths.slug(name) or "territoire"
        if folder in slugs.values() or folder == commentaires.SYNTHESIS_NAME:
            raise UsageError(f"deux territoires donnent le même nom de dossier : {folder}")
        slugs[name] = folder
    return slugs


def _reports(slugs: dict[str, str]) -> list[freshness.Report]:
    """Every report of a year: one per territory, then the synthesis."""
    reports = [freshness.Report(name, folder) for name, folder in slugs.items()]
    return [*reports, freshness.Report(SYNTHESIS_NAME, freshness.SYNTHESIS)]
