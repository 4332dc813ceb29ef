"""`avs-eval rapports`: every territory's report and the synthesis of a year, in one go.

How it stays fast: the data are validated and the indicators computed once, in
this process, and handed to the kernels as a pickle. Each worker process imports
Papermill and nbconvert once and keeps one warm kernel, which imports what the
reports import before the first notebook; before each notebook the kernel's
namespace is reset, so a report starts as in a fresh kernel (figures use no pyplot
state). Workers and kernels start while this process validates the data.
`--noyau-neuf` starts a new kernel per notebook instead.

How it stays safe: everything is written into a staging folder next to the year's
folder, which replaces it only once the batch has finished; a territory whose
report fails keeps its previous good report. A lock file stops two batches from
writing the same output folder at once.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import html
import json
import multiprocessing
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jupyter_core.utils import run_sync

from avs_eval import __version__, paths
from avs_eval.errors import AvsEvalError, UsageError
from avs_eval.output import write_atomic

TERRITORY_NOTEBOOK = paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb"
SYNTHESIS_NOTEBOOK = paths.NOTEBOOKS_DIR / "synthese.ipynb"
DEFAULT_TIMEOUT = 600  # seconds per notebook
LOCK_NAME = ".avs-eval.lock"
CONTEXT_NAME = ".contexte.pkl"
# A clean namespace before each notebook. Figures use no pyplot state, so there is no
# matplotlib state to reset; modules stay imported, which is the point of a warm kernel.
# `%reset -f` would end with a full garbage collection (0.3 s with pandas and matplotlib
# loaded, every notebook); the shell's own reset clears the same namespaces without it.
RESET_CODE = "get_ipython().reset(new_session=False)"
# Kernel options: no `Out` history (notebooks never read it, and flushing it forces a
# full garbage collection) and no SQLite input history written by a background thread.
# What a warm kernel imports before its first notebook (what the report notebooks
# import), then set aside from garbage collection: these objects live as long as the
# kernel, and full collections during the reports would walk through all of them.
WARM_UP_CODE = "import avs_eval.report"
KERNEL_ARGUMENTS = ["--InteractiveShell.cache_size=0", "--HistoryManager.enabled=False"]


@dataclass
class Job:
    """One notebook to run: where it goes, with which parameters."""

    name: str  # territory name, or "Synthèse"
    notebook: str
    folder: str  # staging folder of this report
    parameters: dict
    title: str
    stem: str  # "rapport" or "synthese"


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


@dataclass
class BatchResult:
    year: int
    folder: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != "ok"]


# --- the worker side -----------------------------------------------------------------

_WARM = True  # reuse one kernel per worker (False with --noyau-neuf)
_KERNEL = None  # the warm kernel manager of this worker process
_LIVE: set = set()  # every kernel this worker started and has not stopped yet


def _start_kernel(warm_up: bool = False):
    """A kernel of our own, handed to Papermill, so that we can reuse, stop or kill it."""
    manager = _launch_kernel()
    _wait_until_ready(manager, warm_up)
    return manager


def _launch_kernel():
    """Start a kernel process and return at once: it boots while the caller goes on.

    It must be an AsyncKernelManager, as the ones Papermill makes: with a blocking one,
    nbclient waits for output in a blocking call and never notices a dead kernel.
    """
    from jupyter_client.manager import AsyncKernelManager

    # An ipc address is a socket path, resolved against each process's own working
    # directory when relative: the kernel runs in notebooks/ and this worker does not,
    # so they would never meet. An absolute path in a private folder fixes both ends.
    sockets = tempfile.mkdtemp(prefix="avs-eval-ipc-")
    manager = AsyncKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=os.path.join(sockets, "noyau"),
        client_factory=_ready_client_class(),
    )
    # The kernel's own console chatter (transport warnings, interrupts at shutdown) is not
    # for the evaluator: what matters reaches the notebook or the batch's summary.
    _LIVE.add(manager)
    run_sync(manager.start_kernel)(
        cwd=str(paths.NOTEBOOKS_DIR),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        extra_arguments=KERNEL_ARGUMENTS,
    )
    return manager


def _wait_until_ready(manager, warm_up: bool) -> None:
    """Wait for the kernel to answer; a warm kernel then imports what reports import."""
    client = _client(manager)
    try:
        client.wait_for_ready(timeout=60)
        if warm_up:
            request = client.execute(WARM_UP_CODE, silent=True, store_history=False)
            _wait_for_reply(client, request, timeout=120)
    finally:
        client.stop_channels()


@functools.cache
def _ready_client_class():
    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """The client nbclient makes for each notebook, minus 0.2 s of waiting.

        jupyter_client's wait_for_ready checks that the kernel answers on the shell and
        IOPub channels, then waits for IOPub to stay silent for 0.2 s. nbclient skips
        every IOPub message that answers another request, so that silence is not needed;
        here it would be idle time before every notebook.
        """

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else 60)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except queue.Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected too: the status messages of this request
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except queue.Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    return ReadyClient


def _client(manager):
    from jupyter_client.blocking import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    client.start_channels()
    return client


def _kernel_alive(manager) -> bool:
    return bool(run_sync(manager.is_alive)())


def _signal(manager, number: int) -> None:
    """Send a signal to the kernel process itself (interrupt, or kill when it hangs)."""
    pid = getattr(manager.provisioner, "pid", None)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)


def _reset(manager) -> None:
    """Empty the kernel's namespace before the next notebook.

    A new client each time: a client kept connected between Papermill runs stops
    receiving its replies (each run drives the kernel from its own event loop). Only
    the shell channel is used: `wait_for_ready` and `execute_interactive` wait for the
    IOPub channel to fall silent, 0.2 s or more of idle time per notebook.
    """
    client = _client(manager)
    try:
        request = client.execute(RESET_CODE, silent=True, store_history=False)
        _wait_for_reply(client, request, timeout=30)
    finally:
        client.stop_channels()


def _wait_for_reply(client, request: str, timeout: float) -> None:
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == request:
            return


def _skip_iri_grammar() -> None:
    """Keep jsonschema from building its IRI grammar when nbformat imports it.

    jsonschema imports `rfc3987_syntax` whenever it is installed (Jupyter's
    dependencies install it), and that module compiles a Lark grammar at import: 2 s
    of every worker's start-up. Notebook schemas check no IRI format, so the checker
    is never used; a `None` entry in sys.modules makes that import fail, which
    jsonschema expects and skips (python-jsonschema/jsonschema#1428).
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def _init_worker(warm: bool) -> None:
    """Get a worker ready while the parent validates: its kernel, Papermill, the exporter.

    The warm kernel boots while this process imports Papermill and nbconvert, then
    imports what the reports import, once for all its notebooks.
    """
    global _WARM, _KERNEL
    # Ctrl-C is handled by the parent. A Python handler, not SIG_IGN: an ignored signal
    # is inherited by the kernels this worker starts, which could then not be interrupted.
    signal.signal(signal.SIGINT, lambda number, frame: None)
    signal.signal(signal.SIGTERM, _terminate)
    _WARM = warm
    atexit.register(_shutdown_kernel)
    # A kernel that fails to start or to warm up here is not fatal: the first notebook
    # starts another one, or reports in its outcome why it cannot.
    if warm:
        with contextlib.suppress(Exception):
            _KERNEL = _launch_kernel()
    _skip_iri_grammar()
    import papermill  # noqa: F401  (imported once per worker, not once per notebook)

    from avs_eval import export

    export._exporter()
    if _KERNEL is not None:
        try:
            _wait_until_ready(_KERNEL, warm_up=True)
        except Exception:
            _shutdown_kernel()


def _terminate(number, frame) -> None:
    """The parent stops the batch (invalid data, Ctrl-C): kill the kernels, tidy, exit.

    At once, not through SystemExit: the signal can land anywhere in Papermill's or the
    pool's code, which would report the exit as an error, traceback included.
    """
    for manager in list(_LIVE):
        _signal(manager, signal.SIGKILL)
        with contextlib.suppress(Exception):
            manager.cleanup_connection_file()
        shutil.rmtree(os.path.dirname(manager.ip), ignore_errors=True)
    os._exit(0)


def _stop(manager) -> None:
    with contextlib.suppress(Exception):
        run_sync(manager.shutdown_kernel)(now=True)
    shutil.rmtree(os.path.dirname(manager.ip), ignore_errors=True)
    _LIVE.discard(manager)


def _shutdown_kernel() -> None:
    global _KERNEL
    if _KERNEL is not None:
        _stop(_KERNEL)
        _KERNEL = None


def _kernel_for_next_notebook():
    """The warm kernel, reset (restarted if it died); or a fresh one with --noyau-neuf."""
    global _KERNEL
    if not _WARM:
        return _start_kernel()
    if _KERNEL is None or not _kernel_alive(_KERNEL):
        _shutdown_kernel()
        _KERNEL = _start_kernel(warm_up=True)
    _reset(_KERNEL)
    return _KERNEL


class _Watchdog:
    """Stops a notebook that outlives its time: an interrupt first, then the kernel itself.

    Papermill's own timeout is per cell; this one is per notebook, as users think of it.
    """

    GRACE = 10  # seconds between the interrupt and killing the kernel

    def __init__(self, manager, timeout: float) -> None:
        self.expired = threading.Event()
        self.timers = [
            threading.Timer(timeout, self._interrupt, (manager,)),
            threading.Timer(timeout + self.GRACE, self._kill, (manager,)),
        ]
        for timer in self.timers:
            timer.daemon = True
            timer.start()

    def _interrupt(self, manager) -> None:
        self.expired.set()
        _signal(manager, signal.SIGINT)

    def _kill(self, manager) -> None:
        _signal(manager, signal.SIGKILL)

    def cancel(self) -> None:
        for timer in self.timers:
            timer.cancel()


def run_job(job: Job, timeout: int) -> Outcome:
    """Execute one notebook and export its HTML; never raises, reports the failure instead."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from avs_eval import export

    start = time.perf_counter()
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{job.stem}.ipynb"
    watchdog = None
    manager = None

    def failed(message: str) -> Outcome:
        if watchdog is not None and watchdog.expired.is_set():
            message = f"délai dépassé : notebook arrêté après {timeout} s"
        return Outcome(
            job.name, job.stem, job.folder, "echec", time.perf_counter() - start, message
        )

    try:
        manager = _kernel_for_next_notebook()
        watchdog = _Watchdog(manager, timeout)
        notebook = pm.execute_notebook(
            job.notebook,
            str(output),
            parameters=job.parameters,
            cwd=str(paths.NOTEBOOKS_DIR),
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
            km=manager,
            # Papermill rewrites the whole output notebook after every cell by default: a
            # fifth of a report's time. It still saves every 30 s, at the end and on failure.
            request_save_on_cell_execute=False,
        )
        watchdog.cancel()
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
        )
    except PapermillExecutionError as failure:
        return failed(f"cellule {failure.cell_index + 1} : {failure.ename} : {failure.evalue}")
    except Exception as failure:  # timeout, dead kernel, anything: report, keep going
        if _WARM:
            _shutdown_kernel()  # the next notebook gets a new kernel
        return failed(_describe(failure, timeout))
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if manager is not None and not _WARM:
            _stop(manager)


def _describe(failure: Exception, timeout: int) -> str:
    kind = type(failure).__name__
    if "Timeout" in kind or "timed out" in str(failure).lower():
        return f"délai dépassé : notebook arrêté après {timeout} s"
    if "DeadKernel" in kind:
        return "le noyau Python s'est arrêté brutalement (mémoire ? arrêt forcé ?)"
    return f"{kind} : {failure}"


# --- the parent side -----------------------------------------------------------------


@contextlib.contextmanager
def output_lock(folder: Path):
    """One batch at a time per output folder; a lock left by a dead process is taken over."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    while True:
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                owner = 0
            if owner and _alive(owner):
                raise AvsEvalError(
                    f"une autre production de rapports est en cours dans {folder} "
                    f"(processus {owner}) : attendez qu'elle se termine"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(descriptor, "w") as handle:
            handle.write(str(os.getpid()))
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    fresh_kernel: bool = False,
    timeout: int = DEFAULT_TIMEOUT,
    territory_notebook: Path | None = None,
    progress: bool = True,
) -> BatchResult:
    """Validate, compute once, run every notebook, publish the year's folder atomically.

    The workers start first: their kernels boot and import while this process
    validates the data. Nothing runs a notebook before the data are valid, and invalid
    data stop the workers before anything is written.
    """
    started = time.perf_counter()
    territory_notebook = paths.resolve(territory_notebook or TERRITORY_NOTEBOOK)
    if not territory_notebook.is_file():
        raise UsageError(f"notebook de rapport introuvable : {territory_notebook.name}")
    wanted = max(1, jobs or os.cpu_count() or 1)
    if territoires:
        wanted = min(wanted, len(territoires) + 1)  # the territories and the synthesis
    with _Workers(wanted, fresh_kernel) as workers:
        # imported once the workers are on their way: pandas and SciPy take a second
        from avs_eval.context import build_context, save_context, slug
        from avs_eval.loading import DataSource, sha256, unknown_territory_message

        source = DataSource.from_options(structures, reponses, classeur)
        context = build_context(source, min_effectif)  # raises ValidationError before any run
        dataset = context.dataset
        year = int(annee) if annee is not None else max(dataset.years)
        if year not in dataset.years:
            known = ", ".join(str(y) for y in dataset.years)
            raise UsageError(f"aucune réponse pour l'année {year} (années disponibles : {known})")
        names = territoires or dataset.territories
        for name in names:
            if name not in dataset.territories:
                raise UsageError(unknown_territory_message(name, dataset.territories))
        slugs = {}
        for name in names:
            if slug(name) in slugs.values():
                raise UsageError(f"deux territoires donnent le même nom de dossier : {slug(name)}")
            slugs[name] = slug(name) or "territoire"

        root = paths.resolve(sortie)
        final = root / str(year)
        with output_lock(root):
            staging = root / f".{year}.en-cours-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            try:
                save_context(context, workers.context_file)
                common = {
                    "annee": year,
                    "fichier_structures": str(source.structures or ""),
                    "fichier_reponses": str(source.reponses or ""),
                    "classeur": str(source.classeur or ""),
                    "min_effectif": context.min_effectif,
                    "verbatims": bool(verbatims),
                }
                work = [
                    Job(
                        name,
                        str(territory_notebook),
                        str(staging / slugs[name]),
                        {
                            **common,
                            "territoire": name,
                            "dossier_sortie": str(staging / slugs[name]),
                        },
                        f"{name} — évaluation PA 3.1.2, {year}",
                        "rapport",
                    )
                    for name in names
                ]
                work.append(
                    Job(
                        "Synthèse",
                        str(SYNTHESIS_NOTEBOOK),
                        str(staging),
                        {**common, "territoire": "", "dossier_sortie": str(staging)},
                        f"Synthèse — évaluation PA 3.1.2, {year}",
                        "synthese",
                    )
                )
                outcomes = workers.run(work, timeout, progress)
                result = BatchResult(year, final, outcomes)
                _keep_previous_reports(result, final, staging)
                result.seconds = time.perf_counter() - started
                inputs = {paths.display_path(p): sha256(p) for p in source.files}
                _write_index(result, staging, slugs, dataset.warnings, source.is_sample)
                _write_manifest(result, staging, common, inputs, fresh_kernel, workers.count)
                _publish(staging, final)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return result


class _Workers:
    """The worker processes of a batch, each with its kernel, started ahead of the work.

    Workers are spawned as soon as the pool opens, so that their start-up (Papermill's
    import, booting and warming the kernel) overlaps the parent's validation. They
    find the shared context through an environment variable that must be set when they
    start, so its path (in a private folder removed with the workers) is fixed now and
    the file written once the data are valid.
    """

    GRACE = 5  # seconds for a worker to stop its kernel before it is killed

    def __init__(self, count: int, fresh_kernel: bool) -> None:
        self.count = count
        self.fresh_kernel = fresh_kernel

    def __enter__(self) -> _Workers:
        self._private = tempfile.TemporaryDirectory(prefix="avs-eval-lot-")
        self.context_file = Path(self._private.name) / CONTEXT_NAME
        self._previous = os.environ.get(paths.CONTEXT_ENV)
        os.environ[paths.CONTEXT_ENV] = str(self.context_file)
        self.pool = ProcessPoolExecutor(
            self.count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(not self.fresh_kernel,),
        )
        for _ in range(self.count):  # a process is spawned per submission, until `count`
            self.pool.submit(_ready)
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self.pool.shutdown(wait=True)
            else:  # invalid data, a refused lock, Ctrl-C: stop now, kernels included
                self.pool.shutdown(wait=False, cancel_futures=True)
                _stop_workers(self.GRACE)
        finally:
            if self._previous is None:
                os.environ.pop(paths.CONTEXT_ENV, None)
            else:
                os.environ[paths.CONTEXT_ENV] = self._previous
            self._private.cleanup()

    def run(self, work: list[Job], timeout: int, progress: bool) -> list[Outcome]:
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
                bar.set_postfix_str(job.name[:30])
                bar.update()
        finally:
            bar.close()
        order = {job.name: i for i, job in enumerate(work)}
        return sorted(outcomes, key=lambda o: order[o.name])


def _ready() -> None:
    """Nothing: submitted once per worker so that the pool spawns them all at once."""


def _stop_workers(grace: float) -> None:
    """Ask every worker to stop its kernel and exit; kill those still there after `grace`."""
    children = multiprocessing.active_children()
    for child in children:
        with contextlib.suppress(Exception):
            child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            with contextlib.suppress(Exception):
                child.kill()


def _keep_previous_reports(result: BatchResult, final: Path, staging: Path) -> None:
    """A territory that failed this time keeps the good report it had, if any."""
    for outcome in result.failures:
        folder = Path(outcome.folder)
        relative = folder.relative_to(staging)
        previous = final / relative
        page = previous / f"{outcome.stem}.html"
        if not page.exists():
            continue
        if outcome.stem == "synthese":
            for name in ("synthese.html", "synthese.ipynb"):
                if (previous / name).exists():
                    shutil.copy2(previous / name, folder / name)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(previous, folder)
        outcome.kept_previous = True


def _publish(staging: Path, final: Path) -> None:
    """Swap the finished staging folder into place; the old one goes only after."""
    old = final.parent / f".{final.name}.ancien-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    shutil.rmtree(old, ignore_errors=True)


STATUS_LABELS = {"ok": "produit", "echec": "échec"}


def _write_index(result, staging, slugs, warnings, is_sample) -> None:
    rows = []
    for outcome in result.outcomes:
        base = "" if outcome.stem == "synthese" else slugs[outcome.name] + "/"
        status = STATUS_LABELS[outcome.status]
        if outcome.kept_previous:
            status += " (rapport précédent conservé)"
        has_page = outcome.status == "ok" or outcome.kept_previous
        link = (
            f'<a href="{html.escape(base)}{outcome.stem}.html">{html.escape(outcome.name)}</a>'
            if has_page
            else html.escape(outcome.name)
        )
        extras = []
        if outcome.stem == "rapport" and has_page:
            extras.append(f'<a href="{html.escape(base)}indicateurs.csv">indicateurs.csv</a>')
        detail = html.escape(outcome.error) if outcome.error else ""
        css = "ok" if outcome.status == "ok" else "echec"
        rows.append(
            f'<tr class="{css}"><td>{link}</td><td>{status}</td><td>{" ".join(extras)}</td>'
            f"<td>{detail}</td></tr>"
        )
    banner = '<p class="bandeau">Données d\'exemple fictives.</p>' if is_sample else ""
    page = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapports {result.year} — évaluation PA 3.1.2</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 900px; margin: 2rem auto; color: #1f2430; }}
h1 {{ color: #0b3d6b; border-bottom: 3px solid #0b3d6b; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #d0d7de; padding: .4em .7em; text-align: left; }}
th {{ background: #eaf0f6; }}
tr.echec td {{ background: #fdecea; }}
.bandeau {{ background: #fff4d6; border-left: 5px solid #e0a400; padding: .5em 1em; }}
</style></head><body>
<h1>Évaluation de la fiche action PA 3.1.2 — rapports {result.year}</h1>
{banner}
<p>{len(result.outcomes) - len(result.failures)} rapport(s) produit(s) sur {len(result.outcomes)}.
Les rapports sont des pages autonomes : elles s'ouvrent sans connexion et peuvent être envoyées
telles quelles aux partenaires.</p>
<table><thead><tr><th>Rapport</th><th>État</th><th>Table</th><th>Détail</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>
"""
    write_atomic(staging / "index.html", page)


def _write_manifest(result, staging, common, inputs, fresh_kernel, jobs) -> None:
    # Versions from the installed metadata: importing nbconvert and papermill here only
    # to read their __version__ cost this process 4 s at the end of every batch.
    from importlib.metadata import version

    parameters = {
        k: (paths.display_path(v) if k.startswith("fichier") or k == "classeur" else v)
        for k, v in common.items()
        if v != ""
    }
    manifest = {
        "annee": result.year,
        "produit_le": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "parametres": parameters,
        "options": {"noyau_neuf": fresh_kernel, "jobs": jobs},
        "entrees": inputs,
        "versions": {
            "avs_eval": __version__,
            "python": platform.python_version(),
            **{package: version(package) for package in ("pandas", "papermill", "nbconvert")},
        },
        "duree_totale_s": round(result.seconds, 3),
        "notebooks": [
            {
                **{k: v for k, v in asdict(o).items() if k != "folder"},
                "dossier": Path(o.folder).relative_to(staging).as_posix() or ".",
                "seconds": round(o.seconds, 3),
                "cells_seconds": round(o.cells_seconds, 3),
            }
            for o in result.outcomes
        ],
    }
    write_atomic(
        staging / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    )


def summary(result: BatchResult) -> str:
    """What the evaluator reads at the end of a batch, in French."""
    done = len(result.outcomes) - len(result.failures)
    lines = [
        f"{done} rapport(s) sur {len(result.outcomes)} produits en {result.seconds:.1f} s "
        f"dans {_shown(result.folder)}/",
        f"Sommaire : {_shown(result.folder / 'index.html')}",
    ]
    for outcome in result.failures:
        kept = " (le rapport précédent est conservé)" if outcome.kept_previous else ""
        lines.append(f"ÉCHEC {outcome.name}{kept} : {outcome.error}")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """A path as typed in the terminal: relative to the current folder when below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative
