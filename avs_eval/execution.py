"""Running the notebooks: the worker processes of a batch, each with its warm kernel.

How it stays fast: each worker process imports Papermill and nbconvert once and keeps
one warm kernel, which imports what the reports import before the first notebook and
is reset before each of the next ones (`kernels`). Workers and kernels start while the
parent validates the data, and find the Context it computed once through a pickle.
`--noyau-neuf` starts a new kernel per notebook instead.

How it stays safe: a notebook's failure is an `Outcome`, never an exception; a refused
or interrupted batch stops the workers and their kernels, on every OS the same way.
This module runs; what was run is kept by `record`.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import kernels, paths, plateforme
from avs_eval.output import write_atomic

__all__ = ["Job", "Outcome", "Workers", "run_job", "skip_iri_grammar"]

CONTEXT_NAME = ".contexte.pkl"
STOP_POLL = 0.1  # seconds between two looks of a worker at the parent's stop flag


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
    """One report of the batch: re-made (ok or failed) or carried over, and why."""

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
    # The same for a task of an event loop: nbclient polls a fresh kernel's output in
    # one, which fails when that kernel is killed, and asyncio logs the failure nobody
    # awaited with its traceback (seen in CI under load, `--noyau-neuf`).
    logging.getLogger("asyncio").addFilter(_not_a_lost_task)
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


def _not_a_lost_task(record: logging.LogRecord) -> bool:
    """Filter of asyncio's log in the workers: a task's failure that nobody awaited
    ("Task exception was never retrieved") is left out, anything else is kept."""
    return not str(record.msg).startswith("Task exception was never retrieved")


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


# --- the pool, in the parent -------------------------------------------------------


class Workers:
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

    def __enter__(self) -> Workers:
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

    def share(self, context) -> None:
        """Write the Context computed once for the kernels, where the workers look for it."""
        from avs_eval.context import save_context

        save_context(context, self.context_file)

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

    def run(
        self, work: list[Job], timeout: int, progress: bool, done: Callable[[Outcome], None]
    ) -> list[Outcome]:
        """Run every job on the workers; `done` hears of each outcome as it comes."""
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
                done(outcome)
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
