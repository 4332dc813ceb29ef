"""`avs-eval rapports --pdf`: the published reports printed by the installed browser.

One batch on the sample (Lyon, and Val de Saône whose figures are mostly secret) is
printed with the browser the batch finds first (Debian's Chromium headless shell where
installed, as in CI; the full Chromium prints the same pages, tested) and read back with
poppler-utils (`pdftotext`, `pdfinfo`), as a partner's PDF reader or a screen reader would:
the territory, the key figures, no masked share, the title, the language, the tags and the
bookmarks. Another batch has no
browser: the HTML reports are still published, and the exit code is 3.

Chromium and poppler-utils are skipped when absent, except in CI (`.ci/run` installs them),
where their absence fails.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pdf_layout
import pytest
from bs4 import BeautifulSoup
from conftest import environment, run_cli

from avs_eval import formatting, pdf
from avs_eval.context import build_context
from avs_eval.errors import EXIT_ENVIRONMENT
from avs_eval.sources import DataSource

YEAR = 2025
TERRITORIES = ("Lyon", "Val de Saône")  # one with figures, one mostly secret
SLUGS = ("lyon", "val-de-saone")
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def _require(*programs: str) -> None:
    missing = [name for name in programs if shutil.which(name, path=ENV["PATH"]) is None]
    if not missing:
        return
    reason = (
        f"absent : {', '.join(missing)} (apt-get install chromium chromium-headless-shell "
        f"poppler-utils ; .ci/run)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def run(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli("rapports", *arguments, env=environment(**ENV, **(env or {})), timeout=900)


def text_of(document: Path) -> str:
    """The PDF's text as pdftotext extracts it (selectable text), spaces made plain."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(document), "-"], capture_output=True, check=True
    )
    return _plain(done.stdout.decode("utf-8"))


def info_of(document: Path) -> dict[str, str]:
    done = subprocess.run(
        ["pdfinfo", "-enc", "UTF-8", str(document)], capture_output=True, check=True
    )
    pairs = (line.split(":", 1) for line in done.stdout.decode("utf-8").splitlines())
    return {key.strip(): value.strip() for key, value in pairs}


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def html_text(page: Path) -> str:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for hidden in soup(["style", "script", "title"]):
        hidden.decompose()
    return _plain(html.unescape(soup.get_text(" ")))


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    _require("chromium", "pdftotext", "pdfinfo", "pdftoppm")
    out = tmp_path_factory.mktemp("pdf")
    done = run("--pdf", "--territoire", *TERRITORIES, "--sortie", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 PDF en" in done.stdout and "envoi/" in done.stdout
    return out / str(YEAR)


# --- what the batch writes ---------------------------------------------------------------


@pytest.mark.lent
def test_one_pdf_beside_each_report_and_a_copy_to_send(printed: Path) -> None:
    pairs = [(printed / slug / "rapport.pdf", f"{slug}-{YEAR}.pdf") for slug in SLUGS]
    pairs.append((printed / "synthese.pdf", f"synthese-{YEAR}.pdf"))
    for document, name in pairs:
        assert document.read_bytes().startswith(b"%PDF-"), document
        assert (printed / "envoi" / name).read_bytes() == document.read_bytes()
    assert sorted(p.name for p in (printed / "envoi").iterdir()) == sorted(n for _, n in pairs)
    index = (printed / "index.html").read_text(encoding="utf-8")
    for link in ("lyon/rapport.pdf", "val-de-saone/rapport.pdf", "synthese.pdf", "envoi/"):
        assert f'href="{link}"' in index
    # written in the staging folder before the swap: nothing left beside the year
    assert not [p for p in printed.parent.iterdir() if p.name.startswith(f".{YEAR}")]


@pytest.mark.lent
def test_pdf_text_has_the_territory_and_its_key_figures(printed: Path) -> None:
    text = text_of(printed / "lyon" / "rapport.pdf")
    assert "Lyon" in text and "Chiffres clés" in text
    # a figure of the key-figures table: Lyon's share and its interval, as printed
    table = build_context(DataSource.sample()).table
    row = table[
        (table["annee"] == YEAR)
        & (table["niveau"] == "territoire")
        & (table["perimetre"] == "Lyon")
        & (table["indicateur"] == "permanence_partenaire")
        & (table["type"] == "Ensemble")
        & ~table["masque"]
    ].iloc[0]
    # the share, then its interval on the cell's second line (pdftotext reads a table's
    # rows line by line: the interval follows the row's other shares)
    share = formatting.percentage(row["part"])
    interval = formatting.interval(row["ic_bas"], row["ic_haut"])
    shown = text.index(_plain(share))
    assert _plain(interval) in text[shown:]
    synthesis = text_of(printed / "synthese.pdf")
    assert "Synthèse" in synthesis or "synthèse" in synthesis


@pytest.mark.lent
def test_page_counts_are_sane(printed: Path) -> None:
    for document in [printed / slug / "rapport.pdf" for slug in SLUGS] + [printed / "synthese.pdf"]:
        info = info_of(document)
        assert 5 <= int(info["Pages"]) <= 40, (document, info["Pages"])
        assert info["Page size"].startswith("595.9") and "(A4)" in info["Page size"]


@pytest.mark.lent
def test_no_masked_share_in_the_pdf(printed: Path) -> None:
    """The PDF says no more than the published HTML, and none of the masked intervals."""
    table = build_context(DataSource.sample()).table
    for slug, territory in zip(SLUGS, TERRITORIES, strict=True):
        page = printed / slug / "rapport.html"
        shown, text = html_text(page), text_of(page.with_suffix(".pdf"))
        # every share the PDF prints is one the published page prints
        shares = set(re.findall(r"\d+ %", text))
        assert shares, slug
        assert not shares - set(re.findall(r"\d+ %", shown)), slug
        masked = table[
            (table["annee"] == YEAR)
            & (table["perimetre"] == territory)
            & table["masque"]
            & table["part"].notna()
            & table["ic_bas"].notna()
        ]
        checked = 0
        for _, row in masked.iterrows():
            interval = _plain(formatting.interval(row["ic_bas"], row["ic_haut"]))
            if interval in shown:  # the same interval as a published figure elsewhere
                continue
            checked += 1
            assert interval not in text, (slug, row["indicateur"], row["modalite"], interval)
        if territory == "Val de Saône":
            assert checked > 10
            assert " s " in text  # the masked cells read « s »


@pytest.mark.lent
def test_pdf_is_accessible_tagged_french_titled_with_bookmarks(printed: Path) -> None:
    document = printed / "lyon" / "rapport.pdf"
    info = info_of(document)
    assert info["Tagged"] == "yes"
    assert info["Title"] == f"Lyon — évaluation PA 3.1.2, {YEAR}"
    data = document.read_bytes()
    assert b"/Lang (fr)" in data
    # the structure: section headings, tables with header cells, every chart and map a
    # figure with its alternative text (the `alt` of the page's images)
    images = (printed / "lyon" / "rapport.html").read_text(encoding="utf-8").count("<img ")
    assert data.count(b"/S /H2") >= 13 and data.count(b"/S /TH") >= 10
    assert data.count(b"/S /Figure") == data.count(b"/Alt") == images > 10
    titles = _bookmarks(data)
    # « 3. Mise en œuvre des actions » (issue 25) moved the later sections by one
    assert "5. Chiffres clés" in titles and "14. Méthode" in titles
    # a heading on two lines keeps its space in its bookmark (no « permanencedans »)
    assert "7. Indicateur 2 : un partenaire tient une permanence dans les locaux" in titles
    # the table of contents: links to places inside the document, none to the web
    assert data.count(b"/Subtype /Link") >= 13 and b"/URI" not in data
    text = text_of(document)
    assert re.search(r"page 1 / \d+", text)  # the footer
    assert text.count(f"Lyon — évaluation PA 3.1.2, {YEAR}") >= int(info["Pages"])  # header
    assert pdf.INTERNAL_BANNER not in text


def _bookmarks(data: bytes) -> list[str]:
    """Titles of the outline's entries, literal or UTF-16 strings as Chromium writes them."""
    titles = []
    for found in re.finditer(rb"<</Title (<FEFF[0-9A-F]*>|\((?:[^()\\]|\\.)*\))\n/Dest", data):
        raw = found.group(1)
        if raw.startswith(b"<"):
            titles.append(bytes.fromhex(raw[5:-1].decode()).decode("utf-16-be"))
        else:
            titles.append(raw[1:-1].decode("latin-1"))
    return titles


# --- the internal edition -------------------------------------------------------------------


def pages_of(document: Path) -> list[str]:
    """Each page's text, as `pdftotext -f N -l N` reads it."""
    count = int(info_of(document)["Pages"])
    return [
        _plain(
            subprocess.run(
                ["pdftotext", "-enc", "UTF-8", "-f", str(n), "-l", str(n), str(document), "-"],
                capture_output=True,
                check=True,
            ).stdout.decode("utf-8")
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def printed_internal(tmp_path_factory) -> Path:
    _require("chromium", "pdftotext", "pdfinfo", "pdftoppm")
    out = tmp_path_factory.mktemp("pdf-interne")
    done = run("--pdf", "--interne", "--territoire", *TERRITORIES, "--sortie", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return out / f"{YEAR}-interne"


def test_the_internal_pdf_says_so_on_every_page_in_its_title_and_its_name(
    printed_internal: Path,
) -> None:
    pdfs = sorted(
        p.relative_to(printed_internal).as_posix() for p in printed_internal.rglob("*.pdf")
    )
    assert pdfs == [
        "lyon/rapport-interne.pdf",
        "synthese-interne.pdf",
        "val-de-saone/rapport-interne.pdf",
    ]
    assert not (printed_internal / "envoi").exists()  # not to be sent
    for document in (printed_internal / "lyon" / "rapport-interne.pdf",
                     printed_internal / "synthese-interne.pdf"):  # fmt: skip
        pages = pages_of(document)
        assert len(pages) > 3
        for number, text in enumerate(pages, start=1):
            assert pdf.INTERNAL_BANNER in text, (document.name, number)
        assert "édition interne" in info_of(document)["Title"]
    index = (printed_internal / "index.html").read_text(encoding="utf-8")
    assert 'href="lyon/rapport-interne.pdf"' in index


# --- the pages' layout ---------------------------------------------------------------------
# A heading, its introduction and the first chart, table or list they introduce stay on one
# page; no page but the last is left under a fifth full; no interval is cut at a line's end.
# `pdf_layout` reads each page's text (`pdftotext -layout`) and how far down it is drawn.


def _layout_faults(folder: Path, documents: list[str]) -> list[str]:
    found = []
    for name in documents:
        document = folder / name
        page = document.with_name(document.name.replace("-interne", "")).with_suffix(".html")
        assert pdf_layout.openings(page), page  # the headings the pages are checked for
        found += pdf_layout.faults(document, page)
        found += [f"{name} : {cut} coupé" for cut in pdf_layout.intervals_whole(document, page)]
    return found


@pytest.mark.lent
def test_pages_never_end_with_a_heading_nor_are_left_nearly_blank(printed: Path) -> None:
    documents = ["synthese.pdf", "lyon/rapport.pdf", "val-de-saone/rapport.pdf"]
    assert _layout_faults(printed, documents) == []


@pytest.mark.lent
def test_internal_pages_never_end_with_a_heading_nor_are_left_nearly_blank(
    printed_internal: Path,
) -> None:
    documents = [
        "synthese-interne.pdf",
        "lyon/rapport-interne.pdf",
        "val-de-saone/rapport-interne.pdf",
    ]
    assert _layout_faults(printed_internal, documents) == []


@pytest.mark.lent
def test_bilan_pages_never_end_with_a_heading_nor_are_left_nearly_blank(tmp_path) -> None:
    _require("chromium", "pdftotext", "pdfinfo", "pdftoppm")
    done = run_cli("bilan", "--pdf", "--sortie", str(tmp_path), env=environment(**ENV), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _layout_faults(tmp_path / "bilan-2022-2025", ["bilan.pdf"]) == []
    # the internal edition's PDF says it in its name and on every page
    done = run_cli(
        "bilan",
        "--pdf",
        "--interne",
        "--sortie",
        str(tmp_path),
        env=environment(**ENV),
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "bilan-2022-2025-interne"
    assert not (folder / "bilan.pdf").exists()
    pdf = folder / "bilan-interne.pdf"
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"Pages:\s+(\d+)", pages.stdout).group(1))
    for page in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Édition interne — ne pas diffuser" in text, page


# --- without a browser ---------------------------------------------------------------------


@pytest.mark.lent
def test_without_browser_the_html_is_published_and_the_exit_code_is_3(tmp_path) -> None:
    out = tmp_path / "sortie"
    done = run(
        "--pdf", "--navigateur", "/nonexistent/chromium", "--territoire", "Val de Saône",
        "--sortie", str(out),
    )  # fmt: skip
    assert done.returncode == EXIT_ENVIRONMENT, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "PDF non produits" in said and "apt-get install chromium" in said
    assert "Les rapports HTML sont produits et publiés" in said
    assert "Traceback" not in said
    year = out / str(YEAR)
    assert (year / "val-de-saone" / "rapport.html").is_file() and (year / "synthese.html").is_file()
    assert not list(year.rglob("*.pdf")) and not (year / "envoi").exists()
    assert ".pdf" not in (year / "index.html").read_text(encoding="utf-8")


def test_no_browser_on_path_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(pdf.BrowserMissing) as missing:
        pdf.find_browser()
    assert missing.value.exit_code == EXIT_ENVIRONMENT
    assert "sudo apt-get install chromium-headless-shell" in str(missing.value)
    assert "sudo apt-get install chromium)" in str(missing.value)  # Ubuntu has no shell
    assert "--navigateur" in str(missing.value)


def _fake_program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_browser_found_on_path_in_order_or_given(monkeypatch, tmp_path) -> None:
    chrome = _fake_program(tmp_path / "bin" / "google-chrome")
    edge = _fake_program(tmp_path / "bin" / "microsoft-edge")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert pdf.find_browser() == chrome  # Chrome before Edge
    chromium = _fake_program(tmp_path / "bin" / "chromium")
    assert pdf.find_browser() == chromium  # Chromium before Chrome
    shell = _fake_program(tmp_path / "bin" / "chromium-headless-shell")
    assert pdf.find_browser() == shell  # the headless shell, cheaper, before all
    assert pdf.find_browser("microsoft-edge") == edge  # a command name
    assert pdf.find_browser(str(edge)) == edge  # a path
    with pytest.raises(pdf.BrowserMissing, match="navigateur introuvable"):
        pdf.find_browser(str(tmp_path / "absent"))


def test_browser_found_where_windows_installs_it(monkeypatch, tmp_path) -> None:
    edge = _fake_program(tmp_path / "x86" / "Microsoft" / "Edge" / "Application" / "msedge.exe")
    monkeypatch.setenv("PATH", str(tmp_path / "vide"))
    monkeypatch.setattr(sys, "platform", "win32")
    for variable in ("PROGRAMFILES", "LOCALAPPDATA"):
        monkeypatch.setenv(variable, str(tmp_path / "ailleurs"))
    monkeypatch.setenv("PROGRAMFILES(X86)", str(tmp_path / "x86"))
    assert pdf.find_browser() == edge


# --- one page that fails -------------------------------------------------------------------


@pytest.mark.lent
def test_a_page_that_fails_is_reported_and_the_others_printed(tmp_path) -> None:
    _require("chromium")
    page = tmp_path / "bon.html"
    page.write_text(
        '<!DOCTYPE html><html lang="fr"><head><title>Essai</title></head>'
        "<body><h1>Essai</h1><p>Texte.</p></body></html>",
        encoding="utf-8",
    )
    good = pdf.Document("Bon", page, tmp_path / "bon.pdf", tmp_path / "envoi" / "bon-2025.pdf")
    bad = pdf.Document("Absent", tmp_path / "absent.html", tmp_path / "absent.pdf")
    result = pdf.print_documents([bad, good], "/usr/bin/chromium", parallel=2)
    assert result.printed == [good] and [name for name, _ in result.failures] == ["Absent"]
    assert result.exit_code == 1 and not result.problem
    assert good.pdf.read_bytes() == good.copy.read_bytes()
    assert not (tmp_path / "absent.pdf").exists()
    assert any(line.startswith("ÉCHEC PDF Absent") for line in result.lines())


def test_a_program_that_is_no_browser_is_said_and_nothing_printed(tmp_path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><title>x</title><p>x</p>", encoding="utf-8")
    document = pdf.Document("Essai", page, tmp_path / "page.pdf")
    result = pdf.print_documents([document], "/bin/true")
    assert result.exit_code == EXIT_ENVIRONMENT and not result.printed
    assert "n'a pas pu démarrer" in result.problem and "--navigateur" in result.problem
    assert not document.pdf.exists()


@pytest.mark.lent
def test_a_full_disk_while_printing_is_the_machines_problem(monkeypatch, tmp_path) -> None:
    _require("chromium")
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><title>x</title><p>x</p>", encoding="utf-8")
    monkeypatch.setenv("AVS_EVAL_PANNE", "disque-plein:*/page.pdf")
    document = pdf.Document("Essai", page, tmp_path / "page.pdf")
    result = pdf.print_documents([document], "/usr/bin/chromium")
    assert result.exit_code == EXIT_ENVIRONMENT and "disque plein" in result.problem
    assert result.failures[0][0] == "Essai" and "écriture impossible" in result.failures[0][1]
    assert not document.pdf.exists()


@pytest.mark.lent
@pytest.mark.parametrize("program", ["chromium", "chromium-headless-shell"])
def test_printing_never_reaches_the_network(tmp_path, program: str) -> None:
    """An image from the web in a page is not fetched: a local server sees no request."""
    import http.server
    import threading

    _require(program)
    asked = []

    class Server(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *arguments) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = tmp_path / "page.html"
        address = f"http://127.0.0.1:{server.server_port}/pixel.png"
        page.write_text(
            f'<!DOCTYPE html><html lang="fr"><title>x</title><p>Texte</p>'
            f'<img src="{address}" alt="image distante"></html>',
            encoding="utf-8",
        )
        document = pdf.Document("Essai", page, tmp_path / "page.pdf")
        result = pdf.print_documents([document], f"/usr/bin/{program}")
    finally:
        server.shutdown()
        server.server_close()
    assert result.printed == [document] and asked == []


@pytest.mark.lent
def test_the_headless_shell_prints_what_the_full_browser_prints(printed: Path, tmp_path) -> None:
    """The batch prints with the headless shell when it is installed (the cheaper one): the
    full browser, which Windows users print with (Chrome, Edge), must give the same PDF —
    same pages, same text, same tags and title, the same look page by page."""
    from PIL import Image, ImageChops

    _require("chromium-headless-shell", "chromium")
    assert pdf.find_browser().name == "chromium-headless-shell"
    by_shell = printed / "lyon" / "rapport.pdf"  # the batch's
    by_full = tmp_path / "rapport.pdf"
    page = printed / "lyon" / "rapport.html"
    result = pdf.print_documents([pdf.Document("Lyon", page, by_full)], "chromium")
    assert result.printed and "shell" not in result.browser
    assert text_of(by_full) == text_of(by_shell)
    shell_info, full_info = info_of(by_shell), info_of(by_full)
    for key in ("Pages", "Tagged", "Title", "Page size"):
        assert full_info[key] == shell_info[key], key
    for name, document in (("shell", by_shell), ("full", by_full)):
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", str(document), str(tmp_path / name)], check=True
        )
    pages = sorted(tmp_path.glob("shell-*.png"))
    assert len(pages) == int(shell_info["Pages"])
    for page in pages:
        shell_page = Image.open(page).convert("L")
        full_page = Image.open(page.with_name(page.name.replace("shell", "full"))).convert("L")
        difference = ImageChops.difference(shell_page, full_page).point(lambda v: v > 32)
        changed = sum(difference.histogram()[1:]) / (shell_page.width * shell_page.height)
        assert changed < 0.005, f"{page.name}: {changed:.1%} des pixels diffèrent"


@pytest.mark.lent
def test_the_printing_browser_keeps_playwright_s_switches_and_opens_no_hidden_page(
    tmp_path,
) -> None:
    """Chromium keeps only the last --disable-features: the printer's must still hold every
    feature Playwright turns off (no network at start…), as read on chrome://version; and
    headless Chromium must open no page of its own interface (the omnibox's suggestions)
    beside the report being printed."""
    from playwright.sync_api import sync_playwright

    _require("chromium")
    page = tmp_path / "page.html"
    page.write_text('<!DOCTYPE html><html lang="fr"><title>x</title><p>Texte</p></html>')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=pdf.browser_arguments()
        )
        try:
            tab = browser.new_context(java_script_enabled=False).new_page()
            tab.goto(page.as_uri())
            tab.pdf()
            session = browser.new_browser_cdp_session()
            targets = session.send("Target.getTargets")["targetInfos"]
            tab.goto("chrome://version")
            switches = tab.inner_text("#command_line").split()
        finally:
            browser.close()
    disabled = [
        s.split("=", 1)[1].split(",") for s in switches if s.startswith("--disable-features=")
    ]
    assert len(disabled) >= 2, switches  # Playwright's, then the printer's
    playwright_s, effective = set(disabled[0]), set(disabled[-1])
    assert playwright_s <= effective, (
        f"Playwright turns off features the printer does not repeat: "
        f"{sorted(playwright_s - effective)} (pdf.PLAYWRIGHT_DISABLED_FEATURES)"
    )
    assert set(pdf.QUIET_FEATURES) <= effective
    assert [t["url"] for t in targets if t["type"] != "page"] == []
