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
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import paths, plateforme
from avs_eval.errors import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK, EnvironmentProblem
from avs_eval.output import write_atomic

__all__ = [
    "BrowserMissing",
    "Document",
    "PrintResult",
    "find_browser",
    "pdf_links",
    "print_documents",
    "print_reports",
]

PAGE_TIMEOUT_MS = 120_000  # to load and print one report
# Commands tried on PATH, in this order: Debian's and Ubuntu's Chromium, Google Chrome,
# Microsoft Edge (Linux packages and Windows' msedge.exe when it is on PATH).
COMMANDS = (
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
    "installez Chromium (Debian, Ubuntu : sudo apt-get install chromium), Google Chrome ou "
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


@dataclass
class PrintResult:
    printed: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (name, French reason)
    problem: str = ""  # the whole step could not run (no browser): said once
    browser: str = ""  # the browser's name and version, for the summary and the journal
    seconds: float = 0.0
    seconds_per_page: list[float] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.problem:
            return EXIT_ENVIRONMENT
        return EXIT_INVALID if self.failures else EXIT_OK

    def lines(self) -> list[str]:
        """What the batch's summary says about the PDFs, in French."""
        lines = []
        if self.problem:
            lines.append(f"PDF non produits : {self.problem}")
        if self.printed:
            each = self.seconds / len(self.printed)
            line = f"{len(self.printed)} PDF en {self.seconds:.1f} s ({each:.1f} s par rapport"
            line += f", {self.browser})"
            if any(document.copy for document in self.printed):
                line += f", copies à envoyer dans {paths.ENVOI}/"
            lines.append(line)
        for name, reason in self.failures:
            lines.append(f"ÉCHEC PDF {name} (le rapport HTML est publié) : {reason}")
        return lines


# --- finding the browser ----------------------------------------------------------------


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
    """Print every report of a batch that has its HTML in the staging folder.

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
        pdf = folder / paths.edition_file(outcome.stem, ".pdf", internal)
        header = INTERNAL_HEADER if internal else HEADER
        documents.append(Document(outcome.name, html, pdf, copy, header))
    return print_documents(documents, browser, parallel)


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
    result = PrintResult()
    if not documents:
        return result
    started = time.perf_counter()
    try:
        executable = find_browser(browser)
    except BrowserMissing as missing:
        result.problem = str(missing)
        return result
    try:
        asyncio.run(_print_all(documents, executable, max(1, parallel), result))
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
    except Exception as error:  # Playwright's driver itself: the HTML must still be published
        result.problem = f"impression impossible ({_first_line(error)}). {NOT_PRINTED}"
    result.seconds = time.perf_counter() - started
    return result


class _LaunchFailed(Exception):
    pass


async def _print_all(
    documents: list[Document], executable: Path, parallel: int, result: PrintResult
) -> None:
    from playwright.async_api import Error, async_playwright

    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=str(executable))
        except Error as error:
            raise _LaunchFailed(_first_line(error)) from None
        result.browser = f"{executable.name} {browser.version}"
        # the reports are self-contained pages without scripts: printing one never runs
        # code nor reaches the network (a link to the web in a commentary stays a link)
        context = await browser.new_context(java_script_enabled=False)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        await context.route(re.compile(r"^(https?|wss?|ftp)://"), _refuse)
        slots = asyncio.Semaphore(parallel)

        async def one(document: Document) -> None:
            async with slots:
                began = time.perf_counter()
                try:
                    await asyncio.wait_for(_print_one(context, document), PAGE_TIMEOUT_MS / 1000)
                except Exception as error:  # a page that fails never stops the others
                    result.failures.append((document.name, _reason(error)))
                    if plateforme.is_disk_full(error):  # the machine's, not the report's
                        result.problem = "disque plein : libérez de la place, puis relancez"
                    return
                result.printed.append(document)
                result.seconds_per_page.append(time.perf_counter() - began)

        try:
            await asyncio.gather(*(one(document) for document in documents))
        finally:
            await browser.close()
    order = {document.pdf: i for i, document in enumerate(documents)}
    result.printed.sort(key=lambda document: order[document.pdf])


async def _refuse(route) -> None:
    await route.abort()


async def _print_one(context, document: Document) -> None:
    page = await context.new_page()
    try:
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
    finally:
        await page.close()
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
