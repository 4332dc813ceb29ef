"""What each report depends on, and which ones a batch must re-make.

An evaluator re-runs the year's batch many times (a commentary edited, an answer
corrected, a target moved). Like a build tool, `avs-eval rapports` re-makes a report
only when something it was made from has changed, and carries the others over from
the previous publication byte for byte.

What a report is made from:

- for every report (each one shows the Ensemble figures): the data files' content
  (register, answers, workbook, map background with every file GDAL reads beside it —
  a Shapefile's `.dbf`, `.shx`, `.prj`, `.cpg` —, commune table), the notebooks' code
  and text, the package's code and templates, the `parameters/` files outside the
  commentaries (the follow-up of `parameters/suivi/` included), the options that
  change what a report shows, and the versions of Python and of the libraries;
- for one report: its own commentary file, when it holds more than the template.

A fingerprint follows what a report *shows*, not the bytes of every file: a notebook
saved from JupyterLab after a run (its outputs, execution counts, cell ids and
window state written into it) is the same notebook, and a commentary file that still
holds only the template of `avs-eval commentaires` is no commentary. Either re-made
every report although none would change.

The fingerprints of all this, and of the files each report published, are kept in
`SORTIE/.avs-eval-etat/<dossier>.json`, outside the year's folder that partners
receive (a fingerprint is nobody's business there). A report is carried over only
when its published files still have the fingerprints recorded: a state out of step
with the folder (a crash between the publication and the state, a file edited by
hand) only costs a re-made report.

No pandas here: a batch with nothing to re-make never reads a row of data.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

from avs_eval import commentaires, paths
from avs_eval.sources import DataSource, sha256

STATE_DIR = ".avs-eval-etat"
STATE_VERSION = 1
SYNTHESIS = "."  # the synthesis's folder, relative to the year's

# What every report depends on, with what the manifest says when it changed.
COMPONENTS = {
    "donnees": "données modifiées",
    "notebooks": "notebook modifié",
    "code": "code du paquet avs_eval modifié",
    "parametres": "paramètres modifiés (parameters/)",
    "options": "options de la commande modifiées",
    "environnement": "version de Python ou des bibliothèques modifiée",
}
COMMENTARY = "commentaire de l'évaluateur modifié"
NEW = "absent du lot précédent"
FILES_CHANGED = "fichiers publiés modifiés ou manquants depuis le lot précédent"
EVERYTHING = "tout refaire demandé (--tout)"
ASKED = "territoire demandé (--territoire)"
UNCHANGED = "inchangé : repris du lot précédent"


# --- fingerprints -------------------------------------------------------------------------


def _digest(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def tree_digest(folder: Path, skip: Iterable[str] = ()) -> str:
    """Every file below `folder` (its relative path and its bytes), caches left out."""
    skipped = tuple(skip)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or relative.startswith(skipped):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def environment() -> dict[str, str]:
    """Python's version and those of the libraries the package declares it runs with."""
    versions = {"python": platform.python_version()}
    for requirement in requires("avs-eval") or []:
        if "extra ==" in requirement:
            continue  # the explorer's and the tests' packages make no report
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = ""
    return versions


def data_days(files: Iterable[Path], root: Path | None = None) -> dict[str, str]:
    """Each data file's date (ISO), by the fingerprint of its content.

    The data's date is the day its content was last changed, not the day the file was
    copied: the day a batch first read these bytes is kept in the output folder's state
    (`SORTIE/.avs-eval-etat/`), so that the same data copied again (same bytes, a new
    modification time) keeps its date. Content no batch has read yet is dated by the
    file's modification time.
    """
    known = recorded_days(root) if root is not None else {}
    days = {}
    for path in files:
        if path.is_file():
            digest = sha256(path)
            days[digest] = known.get(digest) or date.fromtimestamp(path.stat().st_mtime).isoformat()
    return days


def latest_day(days: dict[str, str]) -> date | None:
    """The data's date as a report's provenance line shows it (« fichiers du … »): the
    latest of its files' dates."""
    return date.fromisoformat(max(days.values())) if days else None


def data_day(files: Iterable[Path], root: Path | None = None) -> str:
    """The data's date, « 02/12/2026 », as `data_days` finds it.

    It is printed in every report, so it is part of what a report is made from: a
    report carried over and one re-made beside it always say the same date.
    """
    day = latest_day(data_days(files, root))
    return day.strftime("%d/%m/%Y") if day else ""


def recorded_days(root: Path) -> dict[str, str]:
    """The dates the states of an output folder recorded for data contents (by digest)."""
    folder = root / STATE_DIR
    days: dict[str, str] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            recorded = read_state(root, path.stem).get("donnees", {}).get("dates", {})
            if isinstance(recorded, dict):
                for digest, day in recorded.items():
                    days[digest] = min(day, days.get(digest, day))
    return days


def with_companions(path: Path) -> list[Path]:
    """A map file and the files read with it: a Shapefile's `.dbf`, `.shx`, `.prj`, `.cpg`…

    GDAL opens, beside `communes.shp`, every file of the same stem (`communes.dbf`,
    `communes.CPG`, `communes.shp.xml`), and beside a GeoPackage its SQLite journal
    (`communes.gpkg-wal`). A commune renamed in the `.dbf` changes the map and its
    labels: it must change the fingerprint, though the `.shp` is the same.
    """
    if not path.is_file():
        return []
    stem, name = path.stem.lower() + ".", path.name.lower()
    beside = [
        p
        for p in path.parent.iterdir()
        if p != path and p.is_file() and p.name.lower().startswith((stem, name))
    ]
    return [path, *sorted(beside)]


def notebook_digest(path: Path) -> str:
    """What of a notebook makes a report: its cells' sources and tags, and its language.

    Outputs, execution counts, cell ids and the interface's metadata (collapsed,
    scrolled, widths) change when the evaluator runs and saves a notebook in
    JupyterLab; they are replaced when the batch runs it. A file that is not a
    notebook is fingerprinted by its bytes (papermill will say what is wrong).
    """
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        metadata = notebook.get("metadata", {})
        kernel = metadata.get("kernelspec", {})
        made_of = {
            "kernel": [kernel.get("name"), kernel.get("language")],
            "language": metadata.get("language_info", {}).get("name"),
            "cells": [
                [
                    cell["cell_type"],
                    "".join(cell.get("source", "")),
                    cell.get("metadata", {}).get("tags", []),
                    cell.get("attachments", {}),
                ]
                for cell in notebook["cells"]
            ],
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return sha256(path)
    return _digest(made_of)


@dataclass(frozen=True)
class Dependencies:
    """The fingerprints of what every report of a batch is made from."""

    components: dict[str, str]
    files: dict[str, str]  # data file as shown -> its fingerprint (for the journal)
    # every file and folder fingerprinted (a folder: every file below it)
    sources: tuple[Path, ...] = ()
    days: dict[str, str] = field(default_factory=dict)  # data's fingerprint -> its date (ISO)

    @property
    def data_day(self) -> date | None:
        """The data's date, as every report of the batch says it."""
        return latest_day(self.days)

    def covers(self, path: Path) -> bool:
        """Whether a file's content is part of the fingerprints (a report may read it).

        The commentaries (in `parameters/`) are each report's own fingerprint.
        """
        path = path.resolve()
        return any(path == source or source in path.parents for source in self.sources)

    @classmethod
    def collect(
        cls,
        source: DataSource,
        map_files: Iterable[Path],
        notebooks: Iterable[Path],
        options: dict,
        root: Path | None = None,
    ) -> Dependencies:
        """`root`: the output folder, whose states recall the data's date."""
        notebooks = list(notebooks)
        inputs = {paths.display_path(p): sha256(p) for p in source.files}
        days = data_days(source.files, root)
        read_with_maps = [p for path in map_files for p in with_companions(path)]
        maps = {paths.display_path(p): sha256(p) for p in read_with_maps}
        files = {**inputs, **maps}
        package = Path(__file__).parent
        components = {
            "donnees": _digest({**files, "date": str(latest_day(days))}),
            "notebooks": _digest([notebook_digest(p) for p in notebooks]),
            "code": tree_digest(package),
            "parametres": tree_digest(paths.PARAMETERS_DIR, skip=("commentaires/",)),
            "options": _digest(options),
            "environnement": _digest(environment()),
        }
        sources = (*source.files, *read_with_maps, *notebooks, package, paths.PARAMETERS_DIR)
        return cls(components, inputs, tuple(p.resolve() for p in sources), days)


def commentary_digest(year: int, slug: str) -> str:
    """The fingerprint of a report's commentary ("" when it has none, or only the template).

    What the report shows of it: nothing when the file holds no more than the template
    of `avs-eval commentaires` (headings and hints, `commentaires.has_content`), however
    its blank lines and spaces were edited; otherwise its text as the report reads it
    (a BOM or Windows line ends change nothing), blank lines around it left out.
    """
    try:
        text = commentaires.read(year, slug)
    except (OSError, UnicodeDecodeError):  # the report will say so: re-make it
        path = commentaires.path_for(year, slug)
        return sha256(path) if path.is_file() else ""
    if not commentaires.has_content(text):
        return ""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# --- what each report published ----------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One report of the year: a territory's, or the synthesis (folder ".")."""

    name: str
    folder: str  # the territory's slug, or "." for the synthesis

    @property
    def slug(self) -> str:
        return commentaires.SYNTHESIS_NAME if self.folder == SYNTHESIS else self.folder

    @property
    def stem(self) -> str:
        """The name of its page and notebook: `synthese.html`, `rapport.html`."""
        return "synthese" if self.folder == SYNTHESIS else "rapport"


def owned_files(year_folder: Path, report: Report, year: int | str) -> list[str]:
    """The files a report published, relative to the year's folder.

    A territory owns its folder; the synthesis owns the files at the top of the year's
    folder (its page, notebook and the department's tables), not the index nor the
    manifest, which describe the whole batch. Each owns its PDF and Word copies for sending.
    """
    if report.folder == SYNTHESIS:
        files = [
            p.name
            for p in year_folder.iterdir()
            if p.is_file() and p.name not in (paths.INDEX, paths.MANIFEST)
        ]
    else:
        base = year_folder / report.folder
        files = [p.relative_to(year_folder).as_posix() for p in base.rglob("*") if p.is_file()]
    for extension in paths.PRINTED:
        copy = paths.envoi_name(report.slug, year, extension)
        if (year_folder / copy).is_file():
            files.append(copy)
    return sorted(files)


def fingerprints(year_folder: Path, files: Iterable[str]) -> dict[str, str]:
    return {name: sha256(year_folder / name) for name in files}


def still_there(year_folder: Path, recorded: dict[str, str]) -> bool:
    """Whether the published files are those the state recorded, byte for byte."""
    if not recorded:
        return False
    for name, digest in recorded.items():
        path = year_folder / name
        if not path.is_file() or sha256(path) != digest:
            return False
    return True


# --- the decision ------------------------------------------------------------------------


@dataclass
class Decision:
    """What a batch does with one report: re-make it or carry it over, and why."""

    report: Report
    remake: bool
    reasons: list[str] = field(default_factory=list)  # why it is re-made
    stale: list[str] = field(default_factory=list)  # carried over although these changed
    previous: dict | None = None  # its entry in the previous state, when carried over

    @property
    def why(self) -> str:
        """The reason in the manifest's and the index's words."""
        if self.remake:
            return " ; ".join(self.reasons)
        if self.stale:
            return (
                "repris du lot précédent sans être refait (à refaire : "
                + ", ".join(self.stale)
                + ")"
            )
        return UNCHANGED


def changes(entry: dict, components: dict, commentary: str) -> list[str]:
    """What changed since a report was made, in French, in the order of COMPONENTS."""
    made_from = entry.get("composants", {})
    reasons = [label for key, label in COMPONENTS.items() if made_from.get(key) != components[key]]
    if entry.get("commentaire", "") != commentary:
        reasons.append(COMMENTARY)
    return reasons


def plan(
    reports: list[Report],
    state: dict,
    year_folder: Path,
    year: int,
    dependencies: Dependencies,
    commentaries: dict[str, str],
    asked: Iterable[str] | None = None,
    everything: bool = False,
) -> list[Decision]:
    """Decide, report by report, what the batch re-makes and what it carries over.

    `asked`: the territories of `--territoire`; those and the synthesis are re-made,
    every other report of the year is carried over as it is, even if out of date (the
    manifest says so), and a report that was never made stays unmade.
    """
    asked = set(asked) if asked is not None else None
    recorded = state.get("rapports", {}) if year_folder.is_dir() else {}
    decisions = []
    for report in reports:
        entry = recorded.get(report.folder)
        present = entry is not None and still_there(year_folder, entry.get("fichiers", {}))
        if entry is None:
            reasons = [NEW]
        elif not present:
            reasons = [FILES_CHANGED]
        else:
            reasons = changes(entry, dependencies.components, commentaries[report.folder])
        if everything:
            decisions.append(Decision(report, True, [EVERYTHING]))
        elif asked is not None and not (report.name in asked or report.folder == SYNTHESIS):
            if present:
                decisions.append(Decision(report, False, stale=reasons, previous=entry))
        elif asked is not None:
            decisions.append(Decision(report, True, reasons or [ASKED]))
        elif reasons:
            decisions.append(Decision(report, True, reasons))
        else:
            decisions.append(Decision(report, False, previous=entry))
    return decisions


def entry_for(
    report: Report,
    year_folder: Path,
    year: int,
    dependencies: Dependencies,
    commentary: str,
) -> dict:
    """The state's record of a report just made: what from, and what it published."""
    return {
        "nom": report.name,
        "composants": dict(dependencies.components),
        "commentaire": commentary,
        "fichiers": fingerprints(year_folder, owned_files(year_folder, report, year)),
    }


def batch_fingerprint(
    dependencies: Dependencies,
    commentaries: dict[str, str],
    asked: Iterable[str] | None,
) -> str:
    """What a whole batch was made from: a batch kept ready to publish must match it."""
    return _digest(
        {
            "composants": dependencies.components,
            "commentaires": commentaries,
            "demandes": sorted(asked) if asked is not None else None,
        }
    )


# --- the state files ------------------------------------------------------------------------


def state_path(root: Path, folder: str) -> Path:
    return root / STATE_DIR / f"{folder}.json"


def read_state(root: Path, folder: str) -> dict:
    """A folder's state; an empty one when missing, unreadable or from another version."""
    try:
        state = json.loads(state_path(root, folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return {}
    return state


def known_data(root: Path, data: str) -> dict | None:
    """The years and territories of data already read by a batch (by their fingerprint).

    A batch with nothing to re-make learns them here instead of reading the data.
    """
    folder = root / STATE_DIR
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json")):
        state = read_state(root, path.stem)
        record = state.get("donnees", {})
        if record.get("empreinte") == data and record.get("annees"):
            return record
    return None
