"""What a batch did, report by report: its one bookkeeping object.

Like papermill's `NotebookExecutionManager`, which keeps a notebook's timings and
states apart from the engine that runs its cells, `BatchRecord` keeps what the batch
planned, what it re-made or carried over and why, its timings and its failures, apart
from the workers that run the notebooks (`execution`). The journal is written through
it as the run goes; the index, the manifest, the state kept for the next batch and the
summary the evaluator reads are all read from it.
"""

from __future__ import annotations

import contextlib
import json
import platform
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from avs_eval import __version__, freshness, kernels, paths
from avs_eval.errors import EXIT_INTERRUPTED, AvsEvalError
from avs_eval.execution import Outcome
from avs_eval.formatting import counted, seconds
from avs_eval.journal import RunJournal, default_path
from avs_eval.options import shown_parameters
from avs_eval.sources import DataSource

if TYPE_CHECKING:
    from avs_eval.printing import Printed

__all__ = ["BatchRecord"]

STATUS_LABELS = {"ok": "produit", "echec": "échec"}
CARRIED_LABEL = "inchangé, repris du lot précédent"
STALE_LABEL = "repris du lot précédent, non refait"
# the tables listed beside a report in the index (a year's, then the bilan's)
TABLES = (
    "indicateurs.xlsx",
    "indicateurs.csv",
    "evolutions.csv",
    "bilan.xlsx",
    "trajectoires.csv",
    "suivi_actions.csv",
)
# The manifest's words for a report's outcome: French, like every other key of the
# manifest (`refait`, `raison` and the totals `refaits`, `repris` are read by other tools).
MANIFEST_KEYS = {
    "name": "nom",
    "stem": "fichier",  # the page's name without extension: rapport, synthese
    "status": "etat",  # ok, echec
    "error": "erreur",
    "kept_previous": "precedent_conserve",
    "html_bytes": "octets_html",
}


@dataclass
class BatchRecord:
    """The bookkeeping of one batch: plan, outcomes, timings, failures, journal."""

    year: int
    folder: Path  # the year's folder, or where a batch blocked at publication waits
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    journal: Path | None = None  # said in the summary once the journal is closed
    printing: Printed | None = None  # with --pdf or --docx: what was written (printing)
    decisions: list[freshness.Decision] = field(default_factory=list)  # what was planned
    started: float = field(default_factory=time.perf_counter)
    options: dict = field(default_factory=dict)  # the run's own options, for the manifest
    log: RunJournal | None = field(default=None, repr=False)
    say: Callable[[str], None] = field(default=print, repr=False)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != "ok"]

    # --- as the batch goes: the journal -----------------------------------------------

    def open_journal(
        self, path: Path | None, root: Path, inputs: dict[str, str], parameters: dict
    ) -> None:
        """The journal's header: the data files' fingerprints, the parameters and options.

        `path` None: SORTIE/journaux/ANNEE-DATE-HEURE.txt, outside the published year.
        """
        self.log = RunJournal(path or default_path(root, self.year))
        self.log.header(self.year, inputs, {**shown_parameters(parameters), **self.options})

    def tell(self, text: str) -> None:
        """Say it to the evaluator, and keep it in the journal."""
        self.say(text)
        self.log.note(text)

    def notebook_done(self, outcome: Outcome) -> None:
        self.log.notebook(outcome)

    def printed(self, result: Printed) -> None:
        self.printing = result
        for line in result.lines():
            self.log.note(line)

    @contextlib.contextmanager
    def closing_journal(self) -> Iterator[None]:
        """Close the journal with the batch's end: published, refused or interrupted."""
        try:
            yield
        except KeyboardInterrupt:
            self.log.close("interrompu par l'utilisateur", EXIT_INTERRUPTED)
            raise
        except AvsEvalError as error:
            self.log.close(f"arrêté : {error}", error.exit_code)
            raise
        except BaseException as error:
            self.log.close(f"arrêté : {type(error).__name__} : {error}", 1)
            raise
        self.journal = self.log.path
        remade = sum(1 for outcome in self.outcomes if outcome.remade)
        published = len(self.outcomes) - len(self.failures)
        self.log.close(
            f"{counted(published, 'rapport publié', 'rapports publiés')}"
            f" dont {counted(remade, 'refait')}",
            1 if self.failures else 0,
        )

    # --- the outcomes ------------------------------------------------------------------

    def settle(self, made: list[Outcome], staging: Path) -> None:
        """Every report's outcome, in the plan's order: those re-made, those carried over."""
        by_name = {outcome.name: outcome for outcome in made}
        self.outcomes = []
        for decision in self.decisions:
            report = decision.report
            outcome = by_name.get(report.name)
            if outcome is None:
                stem = report.stem
                page = staging / report.folder / f"{stem}.html"
                outcome = Outcome(
                    report.name,
                    stem,
                    str(staging / report.folder),
                    "ok",
                    0.0,
                    html_bytes=page.stat().st_size if page.is_file() else 0,
                    remade=False,
                )
            outcome.why = decision.why
            self.outcomes.append(outcome)
        self.seconds = time.perf_counter() - self.started

    def take_manifest(self, manifest: dict, final: Path) -> None:
        """The record of a batch kept ready to publish, as its manifest tells it."""
        self.year, self.folder = manifest["annee"], final
        self.seconds = manifest.get("duree_totale_s", 0.0)
        self.outcomes = [
            Outcome(
                entry["nom"],
                entry["fichier"],
                str(final / entry.get("dossier", ".")),
                entry["etat"],
                entry.get("secondes", 0.0),
                entry.get("erreur", ""),
                entry.get("precedent_conserve", False),
                remade=entry.get("refait", True),
                why=entry.get("raison", ""),
            )
            for entry in manifest.get("notebooks", [])
        ]

    # --- what the year's folder and the next batch read --------------------------------

    def index_rows(self, staging: Path, internal: bool = False) -> list[dict]:
        """The lines of the year's table of contents, one per report, the synthesis first
        (a partner starts with the whole department, then finds a territory)."""
        outcomes = sorted(self.outcomes, key=lambda o: Path(o.folder) != staging)
        return [_index_row(outcome, staging, internal) for outcome in outcomes]

    def manifest(
        self,
        staging: Path,
        parameters: dict,
        source: DataSource,
        distributions: Future | None,
        dependencies: freshness.Dependencies | None = None,
    ) -> dict:
        """The batch's provenance, in the year's folder: nothing a partner may not read.

        No fingerprint and no machine path (they are in the journal and in the state kept
        outside the year's folder): the data files by their name as shown, size and date
        (the day their content last changed, as `dependencies` found it: not the day
        they were copied).
        """
        days = dependencies.days if dependencies is not None else {}
        shown = dependencies.files if dependencies is not None else {}
        return {
            "annee": self.year,
            "produit_le": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "parametres": shown_parameters(parameters),
            "options": self.options,
            "entrees": {
                paths.display_path(path): {
                    "octets": path.stat().st_size,
                    "modifie_le": days.get(shown.get(paths.display_path(path), ""))
                    or time.strftime("%Y-%m-%d", time.localtime(path.stat().st_mtime)),
                }
                for path in source.files
            },
            # the batch's own, then those of every package the reports imported (from the
            # kernels themselves, so they are the versions that made the figures); those
            # of the batch that made the reports carried over when none was re-made
            "versions": self._versions(distributions),
            "duree_totale_s": round(self.seconds, 3),
            "refaits": sum(1 for o in self.outcomes if o.remade),
            "repris": sum(1 for o in self.outcomes if not o.remade),
            "notebooks": [
                {
                    **{MANIFEST_KEYS[k]: v for k, v in asdict(o).items() if k in MANIFEST_KEYS},
                    "dossier": Path(o.folder).relative_to(staging).as_posix() or ".",
                    "secondes": round(o.seconds, 3),
                    "secondes_cellules": round(o.cells_seconds, 3),
                    "refait": o.remade,
                    "raison": o.why,
                }
                for o in self.outcomes
            ],
        }

    def _versions(self, distributions: Future | None) -> dict:
        versions = dict(read_manifest(self.folder).get("versions", {}))
        if distributions is not None:
            modules = {name for outcome in self.outcomes for name in outcome.modules}
            versions.update(
                {
                    "avs_eval": __version__,
                    "python": platform.python_version(),
                    **{package: _version(package) for package in ("papermill", "nbconvert")},
                    **kernels.versions_of(modules, distributions.result()),
                }
            )
        versions.setdefault("avs_eval", __version__)
        versions.setdefault("python", platform.python_version())
        return versions

    def state(
        self,
        staging: Path,
        dependencies: freshness.Dependencies,
        commentaries: dict[str, str],
        data: dict,
    ) -> dict:
        """What the new year's folder was made from, for the next batch to decide."""
        outcomes = {outcome.name: outcome for outcome in self.outcomes}
        reports = {}
        for decision in self.decisions:
            report, outcome = decision.report, outcomes[decision.report.name]
            if not decision.remake:
                reports[report.folder] = decision.previous  # the same files, made from the same
            elif outcome.status == "ok" and self._printed(outcome):
                reports[report.folder] = freshness.entry_for(
                    report, staging, self.year, dependencies, commentaries[report.folder]
                )
            elif outcome.kept_previous and decision.previous is not None:
                reports[report.folder] = decision.previous
        return {
            # the data's date by its content: the same bytes copied again keep it
            "donnees": {
                **data,
                "empreinte": dependencies.components["donnees"],
                "dates": dependencies.days,
            },
            "rapports": reports,
        }

    # --- what the evaluator reads --------------------------------------------------------

    def summary(self) -> str:
        """What the evaluator reads at the end of a batch, in French."""
        done = len(self.outcomes) - len(self.failures)
        carried = [outcome for outcome in self.outcomes if not outcome.remade]
        lines = [
            f"{counted(done, 'rapport produit', 'rapports produits')} sur {len(self.outcomes)} "
            f"en {seconds(self.seconds)} "
            f"dans {paths.as_typed(self.folder)}/",
        ]
        if carried:
            stale = [o.name for o in carried if o.why != freshness.UNCHANGED]
            lines.append(
                f"{counted(len(self.outcomes) - len(carried), 'refait')}, "
                f"{counted(len(carried), 'repris tel quel', 'repris tels quels')} du lot "
                "précédent (rien de ce dont ils dépendent n'a changé ; --tout refait tout)"
                if not stale
                else f"{counted(len(self.outcomes) - len(carried), 'refait')}, "
                f"{len(carried)} repris "
                f"du lot précédent, dont {counted(len(stale), 'non refait', 'non refaits')} "
                "malgré un changement "
                "(relancez sans --territoire pour les mettre à jour)"
            )
        lines.append(f"Sommaire : {paths.as_typed(self.folder / paths.INDEX)}")
        for outcome in self.failures:
            kept = " (le rapport précédent est conservé)" if outcome.kept_previous else ""
            lines.append(f"ÉCHEC {outcome.name}{kept} : {outcome.error}")
        if self.printing is not None:
            lines += self.printing.lines()
        if self.journal is not None:
            lines.append(f"Journal : {paths.as_typed(self.journal)}")
        return "\n".join(lines)

    def exit_code(self) -> int:
        printing = self.printing.exit_code if self.printing is not None else 0
        return max(1 if self.failures else 0, printing)

    def _printed(self, outcome: Outcome) -> bool:
        """Whether the PDF and Word files asked for were written: if not, the state does
        not record the report, and the next batch re-makes it."""
        page = Path(outcome.folder) / f"{outcome.stem}.html"
        return self.printing is None or self.printing.complete(page)


def _index_row(outcome: Outcome, staging: Path, internal: bool) -> dict:
    folder = Path(outcome.folder).relative_to(staging).as_posix()
    base = "" if folder == "." else folder + "/"
    status = STATUS_LABELS[outcome.status]
    if not outcome.remade:
        status = STALE_LABEL if outcome.why != freshness.UNCHANGED else CARRIED_LABEL
    if outcome.kept_previous:
        status += " (rapport précédent conservé)"
    remade_or_same = outcome.remade or outcome.why == freshness.UNCHANGED
    has_page = (staging / base / f"{outcome.stem}.html").is_file()
    printed = [f"{base}{paths.edition_file(outcome.stem, ext, internal)}" for ext in paths.PRINTED]
    return {
        "nom": outcome.name,
        "ok": outcome.status == "ok",
        "etat": status,
        "page": f"{base}{outcome.stem}.html" if has_page else "",
        # every report writes its tables beside it, the synthesis the department's
        "tables": (
            [name for name in printed if (staging / name).is_file()]
            + [f"{base}{name}" for name in TABLES if (staging / base / name).is_file()]
            if has_page
            else []
        ),
        # why a report was re-made is the evaluator's business (the summary, the manifest);
        # a partner reads a failure, or that a report was not brought up to date
        "detail": outcome.error or ("" if remade_or_same else outcome.why),
    }


def read_manifest(folder: Path) -> dict:
    """A year's manifest, or {} when it has none (or an unreadable one)."""
    try:
        manifest = json.loads((folder / paths.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _version(package: str) -> str:
    # From the installed metadata: importing nbconvert and papermill here only to read
    # their __version__ cost this process 4 s at the end of every batch.
    from importlib.metadata import version

    return version(package)
