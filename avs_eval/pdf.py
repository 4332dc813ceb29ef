"""Reports as PDF: the published HTML pages printed by a real browser engine.

Why a browser: the PDF must be the same document as the HTML a partner opens (same
masked figures, same charts, same table of contents), and only a browser engine lays out
JupyterLab's HTML faithfully. Chromium also writes what French public bodies require of a
PDF (RGAA): a tagged PDF, the document's language (`<html lang="fr">`), its title
(`<title>`) and bookmarks built from the section headings.

Why Playwright on the installed browser: Playwright drives one browser for the whole
batch (pages printed side by side in it, never one browser start per page) and gives the
page header and footer (« page N / M ») that Chromium's `--print-to-pdf` cannot. It never
downloads a browser: it starts the one found on the machine (`find_browser`), or the one
given with `--navigateur`.

What the batch uses: `print_documents`, which never raises for a page that fails to print
(it reports it), so that the HTML reports are always published; a missing browser is an
environment problem (exit code 3), said in French with what to install.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import paths, plateforme
from avs_eval.errors import EnvironmentProblem
from avs_eval.formatting import seconds
from avs_eval.output import StepResult, write_atomic

__all__ = [
    "BrowserMissing",
    "Document",
    "PrintResult",
    "Printer",
    "browser_arguments",
    "find_browser",
    "pdf_links",
    "print_documents",
    "print_reports",
    "report_documents",
]

PAGE_TIMEOUT_MS = 120_000  # to load and print one report
ABORT_GRACE = 5  # seconds for the browser to close when a batch stops
# Commands tried on PATH, in this order: Chromium's headless shell (Debian's package
# chromium-headless-shell, Chrome for Testing's chrome-headless-shell), then Debian's and
# Ubuntu's Chromium, Google Chrome, Microsoft Edge (Linux packages and Windows' msedge.exe
# when it is on PATH). The headless shell is Chromium without the browser's interface:
# measured on the sample year (16 reports, 2 tabs, 03/12/2026), the same PDFs pixel for
# pixel with about a quarter less processor than the full browser in headless mode
# (7.1 s against 9.7 s), which is what --pdf costs a batch on two cores.
COMMANDS = (
    "chromium-headless-shell",
    "chrome-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "microsoft-edge",
    "microsoft-edge-stable",
    "msedge",
)
# Where Windows and macOS install them (not on PATH there): relative to the folders named
# by these environment variables, then absolute paths.
WINDOWS_PLACES = (
    ("PROGRAMFILES", "Google/Chrome/Application/chrome.exe"),
    ("PROGRAMFILES(X86)", "Google/Chrome/Application/chrome.exe"),
    ("LOCALAPPDATA", "Google/Chrome/Application/chrome.exe"),
    ("PROGRAMFILES(X86)", "Microsoft/Edge/Application/msedge.exe"),
    ("PROGRAMFILES", "Microsoft/Edge/Application/msedge.exe"),
    ("LOCALAPPDATA", "Chromium/Application/chrome.exe"),
)
MAC_PLACES = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
)
INSTALL_HINT = (
    "installez Chromium (Debian : sudo apt-get install chromium-headless-shell, le plus "
    "rapide, ou chromium ; Ubuntu : sudo apt-get install chromium), Google Chrome ou "
    "Microsoft Edge (déjà présent sur la plupart des postes Windows), ou donnez le chemin du "
    "navigateur avec --navigateur"
)
NOT_PRINTED = "Les rapports HTML sont produits et publiés, sans PDF"

# A4 portrait, margins wide enough for the header and footer Chromium draws in them.
MARGINS = {"top": "17mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
# The page's <title> (territory, evaluation, year) on every page, « page N / M » below.
# Chromium fills the spans; these templates have no access to the page's own styles.
HEADER = (
    '<div style="font: 7.5pt sans-serif; color: #57606a; width: 100%; margin: 0 14mm; '
    'text-align: right;"><span class="title"></span></div>'
)
# The internal edition's warning on every page, not on the first one only: a page printed
# or forwarded alone still says it is not to be sent.
INTERNAL_BANNER = "Édition interne — ne pas diffuser"
INTERNAL_HEADER = (
    '<div style="font: 7.5pt sans-serif; color: #57606a; width: 100%; margin: 0 14mm; '
    'display: flex; justify-content: space-between;">'
    f'<strong style="color: #8c4a00;">{INTERNAL_BANNER}</strong>'
    '<span class="title"></span></div>'
)
FOOTER = (
    '<div style="font: 7.5pt sans-serif; color: #57606a; width: 100%; text-align: center;">'
    'page <span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)

# Chromium features the printing browser turns off. Headless Chromium is the whole
# browser with an invisible window; in recent versions (156 here) the omnibox's
# suggestions are a web page of their own (WebUI), loaded and laid out in a renderer of
# its own beside the pages printed. Measured: 16 reports printed by `Printer`, 10.5 ->
# 10.2 s of CPU with 2 tabs, 12.3 -> 11.5 s with 1 (one tab printing 8 pages in a loop
# of its own: 6.3 -> 4.6 s). Unknown names are ignored (Edge, older Chrome).
QUIET_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")
# Playwright's own --disable-features (1.65, chromiumSwitches.ts): Chromium keeps only
# the last --disable-features it is given, so the printer's repeats it (no network at
# start, no HTTPS upgrade…). tests/test_pdf.py reads the switches Chromium was started
# with and fails if Playwright's list has grown; pyproject.toml bounds playwright.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)


class BrowserMissing(EnvironmentProblem):
    """No browser to print with: the HTML is published, the PDFs are not (exit code 3)."""


@dataclass(frozen=True)
class Document:
    """One report to print: its HTML, its PDF beside it and, for sending, its copy."""

    name: str  # territory name or « Synthèse », for messages
    html: Path
    pdf: Path
    copy: Path | None = None  # envoi/<slug>-<année>.pdf
    header: str = HEADER  # the internal edition's carries its warning

    @classmethod
    def beside(cls, name: str, html: Path, internal: bool, copy: Path | None = None) -> Document:
        """The PDF of a page, in its folder, named and headed for its edition
        (`rapport-interne.pdf`, the internal edition's warning in every page's header)."""
        pdf = html.with_name(paths.edition_file(html.stem, ".pdf", internal))
        return cls(name, html, pdf, copy, INTERNAL_HEADER if internal else HEADER)


@dataclass
class PrintResult(StepResult):
    """The PDFs a batch printed (`StepResult`), with the browser that printed them."""

    printed: list[Document] = field(default_factory=list)
    browser: str = ""  # the browser's name and version, for the summary and the journal
    seconds_per_page: list[float] = field(default_factory=list)

    FORMAT = "PDF"
    NOT_MADE = "PDF non produits"

    @property
    def files(self) -> list[Document]:
        return self.printed

    def made(self, each: float) -> str:
        return (
            f"{len(self.printed)} PDF en {seconds(self.seconds)} "
            f"({seconds(each)} par rapport, {self.browser})"
        )


# --- finding the browser ----------------------------------------------------------------


def browser_arguments() -> list[str]:
    """The switches the printing browser is started with, beyond Playwright's."""
    return ["--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + QUIET_FEATURES)]


def find_browser(given: str | os.PathLike | None = None) -> Path:
    """The browser to print with: the one given, else the first one installed.

    Raises BrowserMissing with what to install, never a traceback.
    """
    if given:
        path = Path(given).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        found = shutil.which(str(given))
        if found:
            return Path(found)
        raise BrowserMissing(
            f"navigateur introuvable : {given} n'existe pas ou n'est pas un programme. "
            f"{NOT_PRINTED} : {INSTALL_HINT}"
        )
    for candidate in _candidates():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserMissing(
        f"aucun navigateur pour imprimer les PDF (Chromium, Google Chrome ou Microsoft Edge). "
        f"{NOT_PRINTED} : {INSTALL_HINT}"
    )


def _candidates() -> list[Path]:
    places = [Path(found) for name in COMMANDS if (found := shutil.which(name))]
    if sys.platform == "win32":
        for variable, relative in WINDOWS_PLACES:
            base = os.environ.get(variable)
            if base:
                places.append(Path(base) / relative)
    elif sys.platform == "darwin":
        places += [Path(place) for place in MAC_PLACES]
    return places


# --- the batch's step ------------------------------------------------------------------


def print_reports(
    outcomes, staging: Path, year: int, internal: bool, browser=None, parallel: int = 2
) -> PrintResult:
    """Print every report of a batch that has its HTML in the staging folder."""
    return print_documents(report_documents(outcomes, staging, year, internal), browser, parallel)


def report_documents(outcomes, staging: Path, year: int, internal: bool) -> list[Document]:
    """The documents to print for a batch's reports that have their HTML in `staging`.

    A territory that failed but kept its previous report is printed from that HTML, so
    that the PDF always matches the page beside it. The partners' edition also gets its
    copies for sending, `envoi/<slug>-<année>.pdf`; the internal edition does not (it is
    not to be sent), and its PDFs say so: `rapport-interne.pdf`, and the warning in every
    page's header.
    """
    documents = []
    for outcome in outcomes:
        folder = Path(outcome.folder)
        html = folder / f"{outcome.stem}.html"
        if not html.is_file():
            continue
        slug = folder.name if outcome.stem == "rapport" else outcome.stem
        copy = None if internal else staging / paths.envoi_name(slug, year)
        documents.append(Document.beside(outcome.name, html, internal, copy))
    return documents


def pdf_links(result: PrintResult | None, link: str) -> list[str]:
    """The index's link to a report's PDF (`lyon/rapport.pdf`), when it was printed."""
    if result is None:
        return []
    printed = {document.pdf.as_posix() for document in result.printed}
    return [link] if any(path.endswith("/" + link) for path in printed) else []


# --- printing -----------------------------------------------------------------------------


def print_documents(
    documents: list[Document], browser: str | os.PathLike | None = None, parallel: int = 2
) -> PrintResult:
    """Print every document with one browser, `parallel` pages at a time.

    Never raises for a document (its failure is reported and its HTML stays); a browser
    that cannot be found or started is the result's `problem`. Ctrl-C still interrupts.
    """
    if not documents:
        return PrintResult()
    with Printer(browser, parallel) as printer:
        for document in documents:
            printer.add(document)
        return printer.finish()


class Printer:
    """One browser for a whole batch, printing each page as soon as it is handed over.

    The batch hands a report's page over (`add`) when its notebook is done, and goes on
    running the next ones: the browser, started once with the printer, prints in a
    thread of its own, `parallel` pages at a time, while the kernels work. `finish`
    waits for the last page and closes the browser; leaving the `with` block on an
    error or Ctrl-C (`abort`) closes it at once. What is printed, and how a failure is
    reported, is what `print_documents` does: it is this printer, given every page at
    once.
    """

    def __init__(self, browser: str | os.PathLike | None = None, parallel: int = 2) -> None:
        self.result = PrintResult()
        self._given = browser
        self._parallel = max(1, parallel)
        self._handed: list[Document] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._ready = threading.Event()
        self._busy = _Busy()

    def __enter__(self) -> Printer:
        self.start()
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:
            self.abort()

    def start(self) -> None:
        """Find the browser and start it in the printing thread (without waiting for it)."""
        try:
            executable = find_browser(self._given)
        except BrowserMissing as missing:
            self.result.problem = str(missing)
            return
        self._thread = threading.Thread(
            target=self._serve, args=(executable,), name="avs-eval-pdf", daemon=True
        )
        self._thread.start()
        self._ready.wait()  # the thread's loop and queue exist; the browser may still start

    def add(self, document: Document) -> None:
        """Print this page as soon as a place is free (never raises: see `finish`)."""
        self._handed.append(document)
        self._hand_over(document)

    def finish(self) -> PrintResult:
        """Wait for every page handed over, close the browser, say what was printed.

        The pages in the order they were handed over; nothing handed over, nothing said
        (not even a missing browser: there was nothing to print).
        """
        if self._thread is not None:
            self._hand_over(None)  # no more pages
            plateforme.join_thread(self._thread)
        result = self.result
        if not self._handed:
            return PrintResult()
        order = {document.pdf: i for i, document in enumerate(self._handed)}
        result.printed.sort(key=lambda document: order[document.pdf])
        first: dict[str, int] = {}
        for i, document in enumerate(self._handed):
            first.setdefault(document.name, i)
        result.failures.sort(key=lambda failure: first.get(failure[0], len(first)))
        result.seconds = self._busy.seconds
        return result

    def abort(self) -> None:
        """Stop printing now and close the browser (the batch failed or was interrupted)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has already ended
            self._loop.call_soon_threadsafe(self._task.cancel)
        thread.join(ABORT_GRACE)

    def _hand_over(self, document: Document | None) -> None:
        if self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has ended: the browser never started
            self._loop.call_soon_threadsafe(self._queue.put_nowait, document)

    def _serve(self, executable: Path) -> None:
        """The printing thread: its own event loop, the browser, the pages as they come."""
        result = self.result
        try:
            asyncio.run(self._main(executable))
        except _LaunchFailed as failed:
            result.problem = (
                f"le navigateur {executable} n'a pas pu démarrer ({failed}). {NOT_PRINTED} : "
                f"{INSTALL_HINT}"
            )
        except ImportError:
            result.problem = (
                f"le paquet Python playwright manque. {NOT_PRINTED} : lancez make installer "
                "(ou pip install -r requirements/lock.txt)"
            )
        except asyncio.CancelledError:  # aborted: the batch is failing or interrupted
            pass
        except Exception as error:  # Playwright's driver itself: the HTML must still be published
            result.problem = f"impression impossible ({_first_line(error)}). {NOT_PRINTED}"
        finally:
            self._ready.set()

    async def _main(self, executable: Path) -> None:
        self._loop = asyncio.get_running_loop()
        # Ctrl-C reaches Playwright's driver too (same process group): its connection's
        # futures then fail unread, which asyncio would print on the user's terminal.
        # What matters is in the result; the interruption is said by the batch.
        self._loop.set_exception_handler(_quiet_loop_failure)
        self._queue = asyncio.Queue()
        self._task = asyncio.current_task()
        self._ready.set()
        await _print_queue(self._queue, executable, self._parallel, self.result, self._busy)


def _quiet_loop_failure(loop, context) -> None:
    """The printing loop's exception handler: nothing on the user's terminal."""


class _Busy:
    """How long the printer worked: the time some page was being printed, or the
    browser started, not the time it waited for the next notebook."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._active = 0
        self._since = 0.0

    def __enter__(self) -> None:
        if self._active == 0:
            self._since = time.perf_counter()
        self._active += 1

    def __exit__(self, *error) -> None:
        self._active -= 1
        if self._active == 0:
            self.seconds += time.perf_counter() - self._since


class _LaunchFailed(Exception):
    pass


async def _print_queue(
    queue: asyncio.Queue, executable: Path, parallel: int, result: PrintResult, busy: _Busy
) -> None:
    """Print the documents of `queue` as they come, until None; one browser for all."""
    from playwright.async_api import Error, async_playwright

    async with async_playwright() as playwright:
        with busy:  # the browser's start counts as printing
            try:
                browser = await playwright.chromium.launch(
                    executable_path=str(executable), args=browser_arguments()
                )
            except Error as error:
                raise _LaunchFailed(_first_line(error)) from None
        result.browser = f"{executable.name} {browser.version}"
        # the reports are self-contained pages without scripts: printing one never runs
        # code nor reaches the network (a link to the web in a commentary stays a link)
        context = await browser.new_context(java_script_enabled=False)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        await context.route(re.compile(r"^(https?|wss?|ftp)://"), _refuse)
        # `parallel` tabs, each reused from one page to the next: a new tab per page
        # costs a fifth of the printing (a renderer to start)
        tabs: asyncio.Queue = asyncio.Queue()
        for _ in range(parallel):
            tabs.put_nowait(None)  # opened when first needed

        async def one(document: Document) -> None:
            tab = await tabs.get()
            began = time.perf_counter()
            try:
                with busy:
                    tab = tab or await context.new_page()
                    await asyncio.wait_for(_print_one(tab, document), PAGE_TIMEOUT_MS / 1000)
            except Exception as error:  # a page that fails never stops the others
                result.failures.append((document.name, _reason(error)))
                if plateforme.is_disk_full(error):  # the machine's, not the report's
                    result.problem = "disque plein : libérez de la place, puis relancez"
                if tab is not None:  # a new tab for the next page, whatever this one's state
                    with contextlib.suppress(Exception):
                        await tab.close()
                    tab = None
                return
            finally:
                tabs.put_nowait(tab)
            result.printed.append(document)
            result.seconds_per_page.append(time.perf_counter() - began)

        printing = []
        try:
            while (document := await queue.get()) is not None:
                printing.append(asyncio.create_task(one(document)))
            await asyncio.gather(*printing)
        finally:
            for task in printing:
                task.cancel()
            await browser.close()


async def _refuse(route) -> None:
    await route.abort()


async def _print_one(page, document: Document) -> None:
    await page.goto(document.html.resolve().as_uri(), wait_until="load")
    data = await page.pdf(
        format="A4",
        margin=MARGINS,
        print_background=True,
        display_header_footer=True,
        header_template=document.header,
        footer_template=FOOTER,
        tagged=True,  # the structure tree (headings, lists, tables, figures' alt text)
        outline=True,  # bookmarks from the section headings
    )
    write_atomic(document.pdf, data)
    if document.copy is not None:
        write_atomic(document.copy, data)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return f"écriture impossible ({error.strerror or error})"
    if isinstance(error, TimeoutError) or "Timeout" in type(error).__name__:
        return f"délai dépassé ({PAGE_TIMEOUT_MS // 1000} s)"
    return _first_line(error)
