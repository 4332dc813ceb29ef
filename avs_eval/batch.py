"""`avs-eval rapports`: every territory's report and the synthesis of a year, in one go.

This module orchestrates; the kernels are handled in `kernels`, the output folder
(lock, staging, swap, previous reports, index, manifest) in `publication`, the run's
journal in `journal`, and what differs between operating systems in `plateforme`.

How it stays fast: the data are validated and the indicators computed once, in this
process, and handed to the kernels as a pickle. Each worker process imports Papermill
and nbconvert once and keeps one warm kernel, which imports what the reports import
before the first notebook and is reset before each of the next ones. Workers and
kernels start while this process validates the data. `--noyau-neuf` starts a new
kernel per notebook instead.

How it stays safe: nothing runs a notebook before the data are valid; everything is
written into a staging folder that replaces the year's folder only once the batch has
finished (see `publication`); a failed territory keeps its previous good report; a
refused or interrupted batch stops its workers and their kernels.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from importlib.metadata import packages_distributions
from pathlib import Path

from avs_eval import __version__, freshness, kernels, paths, plateforme
from avs_eval.config import secrecy_threshold
from avs_eval.errors import EXIT_INTERRUPTED, AvsEvalError, UsageError
from avs_eval.journal import RunJournal, default_path
from avs_eval.output import write_atomic
from avs_eval.pdf import PrintResult, print_reports
from avs_eval.publication import (
    INTERNAL_SUFFIX,
    LOCK_NAME,
    MANIFEST,
    Publication,
    PublicationBlocked,
    shown,
)
from avs_eval.sources import DataSource

TERRITORY_NOTEBOOK = paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb"
SYNTHESIS_NOTEBOOK = paths.NOTEBOOKS_DIR / "synthese.ipynb"
DEFAULT_TIMEOUT = 600  # seconds per notebook
CONTEXT_NAME = ".contexte.pkl"
STOP_POLL = 0.1  # seconds between two looks of a worker at the parent's stop flag
WARM_UP_CODE = kernels.WARM_UP_CODE  # what the bench's floor imports too
SYNTHESIS_NAME = "Synthèse"

__all__ = ["LOCK_NAME", "WARM_UP_CODE", "BatchResult", "run_batch", "summary"]


@dataclass
class Job:
    """One notebook to run: where it goes, with which parameters."""

    name: str  # territory name, or "Synthèse"
    notebook: str
    folder: str  # staging folder of this report
    parameters: dict
    title: str
    stem: str  # "rapport" or "synthese"
    shown: dict = field(default_factory=dict)  # the parameters as the published notebook says


@dataclass
class Outcome:
    name: str
    stem: str
    folder: str
    status: str  # "ok" or "echec"
    seconds: float
    error: str = ""
    kept_previous: bool = False
    html_bytes: int = 0
    cells_seconds: float = 0.0  # time spent running the cells themselves: the work
    remade: bool = True  # False: carried over from the previous publication, unchanged
    why: str = ""  # why it was re-made, or why it was not (freshness.Decision.why)
    started: float = 0.0  # wall clock, for the journal
    disk_full: bool = False
    stderr: list[str] = field(default_factory=list)  # the kernel's last lines, on failure
    modules: list[str] = field(default_factory=list)  # what the notebook imported


@dataclass
class BatchResult:
    year: int
    folder: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    journal: Path | None = None
    pdf: PrintResult | None = None  # with --pdf: what the browser printed (avs_eval.pdf)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != "ok"]


# --- the worker side -----------------------------------------------------------------

_WARM = True  # reuse one kernel per worker (False with --noyau-neuf)


def _init_worker(warm: bool, stop) -> None:
    """Get a worker ready while the parent validates: its kernel, Papermill, the exporter.

    The warm kernel boots while this process imports Papermill and nbconvert, then
    imports what the reports import, once for all its notebooks.
    """
    global _WARM
    # Ctrl-C is handled by the parent. A Python handler, not SIG_IGN: an ignored signal
    # is inherited by the kernels this worker starts, which could then not be interrupted.
    signal.signal(signal.SIGINT, lambda number, frame: None)
    _WARM = warm
    # The parent stops a batch (invalid data, lock, Ctrl-C) through a shared flag, the same
    # way on every OS. The pool itself terminates the other workers when one exits
    # early: on POSIX that SIGTERM starts the same clean stop (on Windows it cannot be
    # caught, and the kernels exit with their worker, their parent).
    # A helper thread that fails (a kernel client's heartbeat when its kernel is killed,
    # a timer racing the end of a notebook) must not print a traceback in the middle of
    # the progress bar: what matters reaches the notebook's outcome and the journal.
    threading.excepthook = _quiet_thread_failure
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda number, frame: stopping.set())
    threading.Thread(target=_relay, args=(stop, stopping), daemon=True).start()
    # a batch killed alone (Task Manager, kill -9 of its main process) takes its workers
    # and their kernels with it, instead of leaving them waiting for work forever
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_relay, args=(parent, stopping), daemon=True).start()
    threading.Thread(target=_stop_when_asked, args=(stopping,), daemon=True).start()
    atexit.register(kernels.stop_all)
    if warm:
        kernels.launch_warm()
    skip_iri_grammar()
    import papermill  # noqa: F401  (imported once per worker, not once per notebook)

    from avs_eval import export

    export.exporter()
    if warm:
        kernels.warm_up()


def skip_iri_grammar() -> None:
    """The one shortcut kept: jsonschema's IRI grammar is not built in the workers.

    jsonschema imports `rfc3987_syntax` whenever it is installed (Jupyter's own
    dependencies install it), and that module compiles a Lark grammar at import: 1 to 3 s
    of every worker's start-up, for a format that notebook schemas never check. A `None`
    entry in sys.modules makes that import fail, which jsonschema expects and skips
    (python-jsonschema/jsonschema#1428). It relies on jsonschema's import being
    optional, hence `jsonschema<5` in pyproject.toml and a test that says when it stops
    holding (tests/test_api_publique.py).
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def _quiet_thread_failure(args) -> None:
    """threading.excepthook of the workers: nothing on the user's terminal."""


def _relay(event, stopping: threading.Event) -> None:
    """Wait for the parent's stop flag, or for the parent process to end; then stop.

    The flag is a shared byte read every STOP_POLL seconds, not a multiprocessing
    Event: a process that dies while waiting on an Event leaves its setter blocked
    forever (the parent hung at the end of a batch on a full disk).
    """
    try:
        if hasattr(event, "join"):
            event.join()
        else:
            while not event.value:
                time.sleep(STOP_POLL)
    except Exception:  # no news from the parent is not an order to stop
        return
    stopping.set()


def _stop_when_asked(stop) -> None:
    """Kill this worker's kernels and exit at once when the parent says so.

    At once, not through SystemExit: the exit can land anywhere in Papermill's or the
    pool's code, which would report it as an error, traceback included.
    """
    stop.wait()
    kernels.kill_all_now()
    os._exit(0)


def run_job(job: Job, timeout: int) -> Outcome:
    """Execute one notebook and export its HTML; never raises, reports the failure instead."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from avs_eval import export

    start, started = time.perf_counter(), time.time()
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    watchdog = kernel = None
    position = 0

    def failed(message: str, disk_full: bool) -> Outcome:
        if watchdog is not None and watchdog.expired.is_set():
            message = f"délai dépassé : notebook arrêté après {timeout} s"
        return Outcome(
            job.name,
            job.stem,
            job.folder,
            "echec",
            time.perf_counter() - start,
            message,
            started=started,
            disk_full=disk_full,
            stderr=kernel.stderr_since(position) if kernel is not None else [],
        )

    try:
        kernel = kernels.for_next_notebook(_WARM)
        position = kernel.stderr_position()
        watchdog = kernels.Watchdog(kernel, timeout)
        notebook = pm.execute_notebook(
            job.notebook,
            None,  # written below, atomically
            parameters=job.parameters,
            cwd=str(paths.NOTEBOOKS_DIR),
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
            km=kernel.manager,
            # Papermill serialises the whole notebook after every cell by default: a
            # fifth of a report's time.
            request_save_on_cell_execute=False,
        )
        watchdog.cancel()
        published = export.published_notebook(notebook, job.shown, paths.display_path(job.notebook))
        write_atomic(folder / f"{job.stem}.ipynb", nbformat.writes(published))
        page = export.notebook_to_html(notebook, job.title)
        write_atomic(folder / f"{job.stem}.html", page)
        return Outcome(
            job.name,
            job.stem,
            job.folder,
            "ok",
            time.perf_counter() - start,
            html_bytes=len(page.encode("utf-8")),
            cells_seconds=sum(
                cell.metadata.get("papermill", {}).get("duration") or 0.0 for cell in notebook.cells
            ),
            started=started,
            modules=kernel.modules(),
        )
    except PapermillExecutionError as failure:
        message = f"cellule {failure.cell_index + 1} : {failure.ename} : {failure.evalue}"
        return failed(kernels.anonymous(message), plateforme.disk_full_message(failure.evalue))
    except Exception as failure:  # timeout, dead kernel, full disk: report, keep going
        outcome = failed(_describe(failure, timeout), plateforme.is_disk_full(failure))
        if _WARM:
            kernels.discard_warm()  # the next notebook gets a new kernel
        return outcome
    finally:
        if watchdog is not None:
            watchdog.cancel()
        kernels.close_notebook_clients()
        if kernel is not None and not _WARM:
            kernel.stop()


def _describe(failure: Exception, timeout: int) -> str:
    kind = type(failure).__name__
    if plateforme.is_disk_full(failure):
        where = f" ({Path(failure.filename).name})" if getattr(failure, "filename", None) else ""
        return f"disque plein{where}"
    if "Timeout" in kind or "timed out" in str(failure).lower():
        return f"délai dépassé : notebook arrêté après {timeout} s"
    if "DeadKernel" in kind:
        return "le noyau Python s'est arrêté brutalement (mémoire ? arrêt forcé ?)"
    return kernels.anonymous(f"{kind} : {failure}")


# --- the parent side -----------------------------------------------------------------


def _say_on_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_batch(
    annee: int | None = None,
    territoires: list[str] | None = None,
    jobs: int | None = None,
    structures: str | None = None,
    reponses: str | None = None,
    classeur: str | None = None,
    sortie: str | Path = paths.OUTPUTS_DIR,
    min_effectif: int | None = None,
    verbatims: bool = False,
    interne: bool = False,
    fond_de_carte: str = "",
    champ_insee: str = "code",
    communes_territoires: str = "",
    pdf: bool = False,
    navigateur: str | None = None,
    fresh_kernel: bool = False,
    timeout: int = DEFAULT_TIMEOUT,
    territory_notebook: Path | None = None,
    progress: bool = True,
    journal: str | Path | None = None,
    tout: bool = False,
    say: Callable[[str], None] = _say_on_stderr,
) -> BatchResult:
    """Validate, compute once, re-make what changed, publish the year's folder atomically.

    What each report depends on is fingerprinted first (`freshness`); a report whose
    dependencies did not change is carried over from the previous publication. When
    nothing is to be re-made, no data are read and no kernel starts. Otherwise the
    workers start first: their kernels boot and import while this process validates the
    data. Nothing runs a notebook before the data are valid, and invalid data stop the
    workers before anything is written.
    """
    started = time.perf_counter()
    territory_notebook = paths.resolve(territory_notebook or TERRITORY_NOTEBOOK)
    if not territory_notebook.is_file():
        raise UsageError(f"notebook de rapport introuvable : {territory_notebook.name}")
    source = DataSource.from_options(structures, reponses, classeur)
    root = paths.resolve(sortie)
    common = {
        "annee": annee,
        "fichier_structures": str(source.structures or ""),
        "fichier_reponses": str(source.reponses or ""),
        "classeur": str(source.classeur or ""),
        "min_effectif": secrecy_threshold(min_effectif),
        "verbatims": bool(verbatims),
        "interne": bool(interne),
        "fond_de_carte": str(fond_de_carte or ""),
        "champ_insee": champ_insee or "code",
        "communes_territoires": str(communes_territoires or ""),
    }
    dependencies = freshness.Dependencies.collect(
        source,
        _map_files(source, common),
        [territory_notebook, SYNTHESIS_NOTEBOOK],
        {**_shown_parameters({k: v for k, v in common.items() if k != "annee"}), "pdf": pdf},
    )
    # Data already read by a batch into this output folder: their years and territories
    # are known, so a batch with nothing to re-make needs neither the data nor a kernel.
    known = None if (territoires or tout) else freshness.known_data(root, _data_key(dependencies))
    year = int(annee) if annee is not None else None
    if known is not None and (year is None or year in known["annees"]):
        year = year if year is not None else max(known["annees"])
        reports = _reports(known["territoires"])
        folder = f"{year}{INTERNAL_SUFFIX}" if interne else str(year)
        predicted = freshness.plan(
            reports,
            freshness.read_state(root, folder),
            root / folder,
            year,
            dependencies,
            _commentaries(year, reports),
        )
        remade = sum(1 for decision in predicted if decision.remake)
        idle = remade == 0
    else:
        known, idle = None, False
    # min(cores, reports to make); before the data are read, the reports are counted
    # from --territoire only (every territory otherwise: never fewer than the cores)
    wanted = max(1, jobs or os.cpu_count() or 1)
    if territoires:
        wanted = min(wanted, len(territoires) + 1)  # the territories and the synthesis
    elif known is not None:
        wanted = min(wanted, max(remade, 1))
    with _Workers(wanted, fresh_kernel, start=not idle) as workers:

        def read_data(annee):
            """The Context, with the map background the kernels share; the year's reports."""
            context, year, reports = _read_data(source, min_effectif, annee, territoires)
            # built once for the batch; what does not join (a commune missing from the
            # shapes…) is said, not fatal
            background = context.background(
                common["fond_de_carte"], common["champ_insee"], common["communes_territoires"]
            )
            for line in background.warning_lines():
                say(f"avertissement (cartes) : {line}")
            return context, year, reports, _data_record(context, reports)

        context = None
        if known is None:
            context, year, reports, known = read_data(annee)
        common["annee"] = year
        options = {"noyau_neuf": fresh_kernel, "jobs": workers.count, "pdf": bool(pdf)}
        log = RunJournal(paths.resolve(journal) if journal else default_path(root, year))
        log.header(year, dependencies.files, {**_shown_parameters(common), **options})

        def tell(text: str) -> None:
            say(text)
            log.note(text)

        try:
            # the internal edition never goes into the year's folder, which partners receive
            folder = f"{year}{INTERNAL_SUFFIX}" if interne else year
            with Publication(root, folder, tell, workers.abort) as publication:
                commentaries = _commentaries(year, reports)
                decisions = freshness.plan(
                    reports,
                    publication.previous_state(),
                    publication.final,
                    year,
                    dependencies,
                    commentaries,
                    asked=territoires,
                    everything=tout,
                )
                fingerprint = freshness.batch_fingerprint(dependencies, commentaries, territoires)
                ready = publication.take_ready(fingerprint)
                if ready is not None:
                    result = _from_manifest(ready, publication.final)
                else:
                    todo = [decision for decision in decisions if decision.remake]
                    if todo and context is None:  # another batch changed the year meanwhile
                        workers.start()
                        context, year, reports, known = read_data(year)
                    publication.check_space(len(todo) + 1)
                    staging = publication.new_staging()
                    for decision in decisions:
                        if not decision.remake:
                            publication.carry_over(list(decision.previous["fichiers"]))
                    result = BatchResult(year, publication.final)
                    distributions = None
                    if todo:
                        from avs_eval.context import save_context

                        save_context(context, workers.context_file)
                        work = _jobs(
                            todo, year, common, staging, publication.final, territory_notebook
                        )
                        # which distribution provides which module: 0.6 s of reading
                        # metadata, done while the notebooks run
                        distributions = _in_background(packages_distributions)
                        made = workers.run(work, timeout, progress, log)
                        if any(outcome.disk_full for outcome in made):
                            raise publication.disk_full(during=True)
                        publication.keep_previous([o for o in made if o.status != "ok"])
                        if pdf:  # into the staging folder, so the year is published whole
                            result.pdf = print_reports(
                                made, staging, year, interne, navigateur, workers.count
                            )
                            for line in result.pdf.lines():
                                log.note(line)
                    else:
                        made = []
                    result.outcomes = _all_outcomes(decisions, made, staging)
                    result.seconds = time.perf_counter() - started
                    publication.write_index(_index_rows(result, staging), source.is_sample)
                    publication.write_manifest(
                        _manifest(
                            result, staging, publication.final, common, source, options,
                            distributions,
                        )
                    )  # fmt: skip
                    state = _state(
                        decisions, result, staging, year, dependencies, commentaries, known
                    )
                    state["empreinte_lot"] = fingerprint
                    try:
                        publication.publish(state)
                    except PublicationBlocked as blocked:
                        result.folder = publication.ready  # where the new reports wait
                        blocked.result = result
                        raise
        except KeyboardInterrupt:
            log.close("interrompu par l'utilisateur", EXIT_INTERRUPTED)
            raise
        except AvsEvalError as error:
            log.close(f"arrêté : {error}", error.exit_code)
            raise
        except BaseException as error:
            log.close(f"arrêté : {type(error).__name__} : {error}", 1)
            raise
        result.journal = log.path
        code = 1 if result.failures else 0
        remade = sum(1 for outcome in result.outcomes if outcome.remade)
        log.close(
            f"{len(result.outcomes) - len(result.failures)} rapport(s) publié(s) dont "
            f"{remade} refait(s)",
            code,
        )
        return result


def _data_key(dependencies: freshness.Dependencies) -> str:
    return dependencies.components["donnees"]


def _map_files(source: DataSource, common: dict) -> list[Path]:
    """The map files the reports read: given by option, or the shipped defaults."""
    files = [
        paths.resolve(common["fond_de_carte"])
        if common["fond_de_carte"]
        else paths.DEFAULT_BACKGROUND
    ]
    if common["communes_territoires"]:
        files.append(paths.resolve(common["communes_territoires"]))
    elif source.is_sample:
        files.append(paths.SAMPLE_COMMUNE_TERRITORIES)
    return files


def _read_data(source: DataSource, min_effectif, annee, territoires):
    """Validate the data and compute once: the Context, the year and the year's reports."""
    # imported once the workers are on their way: pandas and SciPy take a second
    from avs_eval.context import build_context
    from avs_eval.loading import unknown_territory_message

    context = build_context(source, min_effectif)  # raises ValidationError before any run
    dataset = context.dataset
    year = int(annee) if annee is not None else max(dataset.years)
    if year not in dataset.years:
        known = ", ".join(str(y) for y in dataset.years)
        raise UsageError(f"aucune réponse pour l'année {year} (années disponibles : {known})")
    for name in territoires or []:
        if name not in dataset.territories:
            raise UsageError(unknown_territory_message(name, dataset.territories))
    return context, year, _reports(_slugs(dataset.territories))


def _data_record(context, reports: list[freshness.Report]) -> dict:
    """The data's years and territories, kept in the state for batches that will not read them."""
    return {
        "annees": [int(y) for y in context.dataset.years],
        "territoires": {r.name: r.folder for r in reports if r.folder != freshness.SYNTHESIS},
    }


def _slugs(names: list[str]) -> dict[str, str]:
    """Each territory's folder name; two territories may not share one."""
    from avs_eval.context import slug

    slugs: dict[str, str] = {}
    for name in names:
        folder = slug(name) or "territoire"
        if folder in slugs.values() or folder == freshness.SYNTHESIS_SLUG:
            raise UsageError(f"deux territoires donnent le même nom de dossier : {folder}")
        slugs[name] = folder
    return slugs


def _reports(slugs: dict[str, str]) -> list[freshness.Report]:
    """Every report of a year: one per territory, then the synthesis."""
    reports = [freshness.Report(name, folder) for name, folder in slugs.items()]
    return [*reports, freshness.Report(SYNTHESIS_NAME, freshness.SYNTHESIS)]


def _commentaries(year: int, reports: list[freshness.Report]) -> dict[str, str]:
    return {report.folder: freshness.commentary_digest(year, report.slug) for report in reports}


def _all_outcomes(decisions, made: list[Outcome], staging: Path) -> list[Outcome]:
    """The batch's outcome for every report: those re-made, then those carried over."""
    by_name = {outcome.name: outcome for outcome in made}
    outcomes = []
    for decision in decisions:
        report = decision.report
        outcome = by_name.get(report.name)
        if outcome is None:
            stem = "synthese" if report.folder == freshness.SYNTHESIS else "rapport"
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
        outcomes.append(outcome)
    return outcomes


def _state(decisions, result, staging, year, dependencies, commentaries, data: dict) -> dict:
    """What the new year's folder was made from, for the next batch to decide."""
    outcomes = {outcome.name: outcome for outcome in result.outcomes}
    reports = {}
    for decision in decisions:
        report, outcome = decision.report, outcomes[decision.report.name]
        if not decision.remake:
            reports[report.folder] = decision.previous  # the same files, made from the same
        elif outcome.status == "ok" and not (result.pdf and _pdf_missing(outcome)):
            reports[report.folder] = freshness.entry_for(
                report, staging, year, dependencies, commentaries[report.folder]
            )
        elif outcome.kept_previous and decision.previous is not None:
            reports[report.folder] = decision.previous
    return {"donnees": {**data, "empreinte": _data_key(dependencies)}, "rapports": reports}


def _pdf_missing(outcome: Outcome) -> bool:
    return not (Path(outcome.folder) / f"{outcome.stem}.pdf").is_file()


def _in_background(function) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


PATH_OPTIONS = ("classeur", "fond_de_carte", "communes_territoires")  # shown without machine path


def _shown_parameters(common: dict) -> dict:
    return {
        key: (
            paths.display_path(value) if key.startswith("fichier") or key in PATH_OPTIONS else value
        )
        for key, value in common.items()
        if value != ""
    }


def _jobs(todo, year: int, common: dict, staging: Path, final: Path, notebook: Path) -> list[Job]:
    """The notebooks to run: one per report to re-make, the synthesis last in the list."""
    work = []
    for decision in todo:
        report = decision.report
        synthesis = report.folder == freshness.SYNTHESIS
        folder = staging / report.folder
        parameters = {
            **common,
            "territoire": "" if synthesis else report.name,
            "dossier_sortie": str(folder),
        }
        shown = {
            **_shown_parameters(parameters),
            "dossier_sortie": paths.display_path(final / report.folder),
        }
        work.append(
            Job(
                report.name,
                str(SYNTHESIS_NOTEBOOK if synthesis else notebook),
                str(folder),
                parameters,
                f"{report.name} — évaluation PA 3.1.2, {year}",
                "synthese" if synthesis else "rapport",
                shown,
            )
        )
    return work


class _Workers:
    """The worker processes of a batch, each with its kernel, started ahead of the work.

    Workers are spawned as soon as the pool opens, so that their start-up (Papermill's
    import, booting and warming the kernel) overlaps the parent's validation. They
    find the shared context through an environment variable that must be set when they
    start, so its path (in a private folder removed with the workers) is fixed now and
    the file written once the data are valid.
    """

    GRACE = 5  # seconds for a worker to stop its kernel before it is killed

    def __init__(self, count: int, fresh_kernel: bool, start: bool = True) -> None:
        self.wanted = count
        self.count = 0  # workers started
        self.fresh_kernel = fresh_kernel
        self.starting = start
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Workers:
        self._private = tempfile.TemporaryDirectory(prefix="avs-eval-lot-")
        self.context_file = Path(self._private.name) / CONTEXT_NAME
        self._previous = os.environ.get(paths.CONTEXT_ENV)
        os.environ[paths.CONTEXT_ENV] = str(self.context_file)
        spawn = multiprocessing.get_context("spawn")
        self.stop = spawn.RawValue("b", 0)  # set to 1 to stop the workers
        if self.starting:
            self.start()
        return self

    def start(self) -> None:
        """Spawn the workers now (a batch with nothing to re-make never does)."""
        if self.pool is not None:
            return
        self.count = self.wanted
        self.pool = ProcessPoolExecutor(
            self.count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(not self.fresh_kernel, self.stop),
        )
        for _ in range(self.count):  # a process is spawned per submission, until `count`
            self.pool.submit(_ready)

    def abort(self) -> None:
        """Stop every worker and its kernels now (invalid data, lock, Ctrl-C, full disk)."""
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        pool.shutdown(wait=False, cancel_futures=True)
        self._stop_workers()

    def __exit__(self, kind, error, trace) -> None:
        try:
            if self.pool is None:
                pass
            elif kind is None:
                self.pool.shutdown(wait=True)
            else:
                self.abort()
        finally:
            if self._previous is None:
                os.environ.pop(paths.CONTEXT_ENV, None)
            else:
                os.environ[paths.CONTEXT_ENV] = self._previous
            self._private.cleanup()

    def _stop_workers(self) -> None:
        """Ask every worker to kill its kernels and exit; kill those still there after GRACE."""
        children = multiprocessing.active_children()
        self.stop.value = 1
        deadline = time.monotonic() + self.GRACE
        for child in children:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()

    def run(self, work: list[Job], timeout: int, progress: bool, log) -> list[Outcome]:
        from tqdm import tqdm

        outcomes = []
        bar = tqdm(
            total=len(work), desc="Rapports", unit="rapport", disable=not progress, file=sys.stderr
        )
        try:
            # the synthesis, the longest notebook, goes first so that no worker waits for it
            queue = sorted(work, key=lambda job: job.stem != "synthese")
            futures = {self.pool.submit(run_job, job, timeout): job for job in queue}
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                job = futures[future]
                try:
                    outcome = future.result()
                except Exception as failure:  # the worker process itself died
                    outcome = Outcome(
                        job.name,
                        job.stem,
                        job.folder,
                        "echec",
                        0.0,
                        f"processus de travail arrêté : {failure}",
                    )
                outcomes.append(outcome)
                log.notebook(outcome)
                if outcome.disk_full:  # the next ones would fail the same way
                    for other in futures:
                        other.cancel()
                bar.set_postfix_str(job.name[:30])
                bar.update()
        finally:
            bar.close()
        order = {job.name: i for i, job in enumerate(work)}
        return sorted(outcomes, key=lambda o: order[o.name])


def _ready() -> None:
    """Nothing: submitted once per worker so that the pool spawns them all at once."""


STATUS_LABELS = {"ok": "produit", "echec": "échec"}
CARRIED_LABEL = "inchangé, repris du lot précédent"
STALE_LABEL = "repris du lot précédent, non refait"


def _index_rows(result: BatchResult, staging: Path) -> list[dict]:
    rows = []
    for outcome in result.outcomes:
        folder = Path(outcome.folder).relative_to(staging).as_posix()
        base = "" if folder == "." else folder + "/"
        status = STATUS_LABELS[outcome.status]
        if not outcome.remade:
            status = STALE_LABEL if outcome.why != freshness.UNCHANGED else CARRIED_LABEL
        if outcome.kept_previous:
            status += " (rapport précédent conservé)"
        has_page = (staging / base / f"{outcome.stem}.html").is_file()
        pdf = f"{base}{outcome.stem}.pdf"
        rows.append(
            {
                "nom": outcome.name,
                "ok": outcome.status == "ok",
                "etat": status,
                "page": f"{base}{outcome.stem}.html" if has_page else "",
                # every report writes its tables beside it, the synthesis the department's
                "tables": (
                    ([pdf] if (staging / pdf).is_file() else [])
                    + [f"{base}{name}" for name in TABLES if (staging / base / name).is_file()]
                    if has_page
                    else []
                ),
                "detail": outcome.error
                or (outcome.why if outcome.why != freshness.UNCHANGED else ""),
            }
        )
    return rows


TABLES = ("indicateurs.xlsx", "indicateurs.csv", "evolutions.csv")
MANIFEST_FIELDS = ("name", "stem", "status", "error", "kept_previous", "html_bytes")


def _manifest(result, staging, final, common, source, options, distributions) -> dict:
    """The batch's provenance, in the year's folder: nothing a partner may not read.

    No fingerprint and no machine path (they are in the journal and in the state kept
    outside the year's folder): the data files by their name as shown, size and date.
    """
    previous = _read_manifest(final)
    modules = {name for outcome in result.outcomes for name in outcome.modules}
    versions = dict(previous.get("versions", {}))
    if distributions is not None:
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
    return {
        "annee": result.year,
        "produit_le": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "parametres": _shown_parameters(common),
        "options": options,
        "entrees": {
            paths.display_path(path): {
                "octets": path.stat().st_size,
                "modifie_le": time.strftime("%Y-%m-%d", time.localtime(path.stat().st_mtime)),
            }
            for path in source.files
        },
        # the batch's own, then those of every package the reports imported (from the
        # kernels themselves, so they are the versions that made the figures); those
        # of the batch that made the reports carried over when none was re-made
        "versions": versions,
        "duree_totale_s": round(result.seconds, 3),
        "refaits": sum(1 for o in result.outcomes if o.remade),
        "repris": sum(1 for o in result.outcomes if not o.remade),
        "notebooks": [
            {
                **{k: v for k, v in asdict(o).items() if k in MANIFEST_FIELDS},
                "dossier": Path(o.folder).relative_to(staging).as_posix() or ".",
                "seconds": round(o.seconds, 3),
                "cells_seconds": round(o.cells_seconds, 3),
                "refait": o.remade,
                "raison": o.why,
            }
            for o in result.outcomes
        ],
    }


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _version(package: str) -> str:
    # From the installed metadata: importing nbconvert and papermill here only to read
    # their __version__ cost this process 4 s at the end of every batch.
    from importlib.metadata import version

    return version(package)


def _from_manifest(manifest: dict, final: Path) -> BatchResult:
    """The result of a batch kept ready to publish, as its manifest tells it."""
    result = BatchResult(manifest["annee"], final, seconds=manifest.get("duree_totale_s", 0.0))
    for entry in manifest.get("notebooks", []):
        result.outcomes.append(
            Outcome(
                entry["name"],
                entry["stem"],
                str(final / entry.get("dossier", ".")),
                entry["status"],
                entry.get("seconds", 0.0),
                entry.get("error", ""),
                entry.get("kept_previous", False),
                remade=entry.get("refait", True),
                why=entry.get("raison", ""),
            )
        )
    return result


def summary(result: BatchResult) -> str:
    """What the evaluator reads at the end of a batch, in French."""
    done = len(result.outcomes) - len(result.failures)
    carried = [outcome for outcome in result.outcomes if not outcome.remade]
    lines = [
        f"{done} rapport(s) sur {len(result.outcomes)} produits en {result.seconds:.1f} s "
        f"dans {shown(result.folder)}/",
    ]
    if carried:
        stale = [o.name for o in carried if o.why != freshness.UNCHANGED]
        lines.append(
            f"{len(result.outcomes) - len(carried)} refait(s), {len(carried)} repris tel(s) "
            "quel(s) du lot précédent (rien de ce dont ils dépendent n'a changé ; --tout "
            "refait tout)"
            if not stale
            else f"{len(result.outcomes) - len(carried)} refait(s), {len(carried)} repris "
            f"du lot précédent, dont {len(stale)} non refait(s) malgré un changement "
            "(relancez sans --territoire pour les mettre à jour)"
        )
    lines.append(f"Sommaire : {shown(result.folder / 'index.html')}")
    for outcome in result.failures:
        kept = " (le rapport précédent est conservé)" if outcome.kept_previous else ""
        lines.append(f"ÉCHEC {outcome.name}{kept} : {outcome.error}")
    if result.pdf is not None:
        lines += result.pdf.lines()
    if result.journal is not None:
        lines.append(f"Journal : {shown(result.journal)}")
    return "\n".join(lines)


def exit_code(result: BatchResult) -> int:
    pdf = result.pdf.exit_code if result.pdf is not None else 0
    return max(1 if result.failures else 0, pdf)
