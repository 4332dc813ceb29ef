"""The Word edition: the published HTML page read back into Word's own structure.

Fast tests work on a small page in the report template's shape (written here, with a
chart made on the spot); the `lent` ones run a batch on the sample (Lyon, and Val de
Saône whose figures are mostly secret, partner and internal editions) and open every
Word file with python-docx, as Word would: the outline, the tables, the pictures and
their descriptions, the language, the properties, no masked share, no non-respondent.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.shared import RGBColor
from lxml import html as lxml_html

from avs_eval import testhooks, word, word_styles
from avs_eval.errors import EXIT_ENVIRONMENT, EXIT_INVALID

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
YEAR = 2025
TERRITORIES = ("Lyon", "Val de Saône")  # one with figures, one mostly secret
SLUGS = ("lyon", "val-de-saone")


def _png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (493, 300), "#0b3d6b").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Lyon — évaluation PA 3.1.2, 2025</title><style>h1 {{ color: red }}</style></head>
<body class="jp-Notebook"><main>
<div class="jp-Cell"><div class="jp-Collapser"></div>
<div class="jp-RenderedHTMLCommon"><h1 id="t">Évaluation — Lyon, 2025<a class="anchor-link"
 href="#t">¶</a></h1><p>Territoire <strong>Lyon</strong> · enquête 2025</p></div></div>
<p class="avs-bandeau"><strong>Données d'exemple fictives.</strong> Rien de réel.</p>
<div class="avs-sommaire"><p><strong>Sommaire</strong> — <a href="#a-retenir">1. À retenir</a>
</p></div>
<p><a id="a-retenir"></a></p>
<h2 id="r">1. À retenir<a class="anchor-link" href="#r">¶</a></h2>
<ul class="avs-retenir"><li>Premier constat.</li><li>Second constat, <em>nuancé</em>.</li></ul>
<h2>2. Chiffres clés</h2>
<table><thead><tr><th>Indicateur</th><th>Lyon</th><th>Métropole</th></tr></thead>
<tbody><tr><td><strong>Permanence</strong><br/><small>Indicateur 2</small></td>
<td>76 %<br/><small>[57 % ; 89 %] · n = 25</small></td><td class="s">s</td></tr>
<tr><td>Aller-vers</td><td class="s">s</td><td>63 %</td></tr></tbody></table>
<div class="jp-RenderedImage"><img alt="Taux de réponse à l'enquête"
 src="data:image/png;base64,{png}" class=""></div>
<h3>Offre</h3>
<table><tr><th colspan="2">Structures</th><th>Total</th></tr>
<tr><td>CS</td><td>EVS</td><td>Ensemble</td></tr><tr><td>23</td><td>6</td><td>29</td></tr></table>
<h2>3. Analyse de l'évaluateur</h2>
<h3>Points forts</h3>
<p>Le territoire <strong>progresse</strong>, <em>surtout</em> en QPV ; voir
<a href="https://www.caf.fr/">le site de la Caf</a>.</p>
<ol><li>D'abord</li><li>Ensuite<ul><li>un détail</li></ul></li></ol>
<h4>À suivre</h4>
<ol><li>Un autre point</li></ol>
<blockquote><p>Une citation du comité.</p></blockquote>
<pre>texte brut
sur deux lignes</pre>
</main></body></html>
"""


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.format(png=_png())


@pytest.fixture(scope="module")
def written(page: str, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("word") / "rapport.docx"
    word.html_to_docx(page, path, author="Caf du Rhône")
    return path


# --- reading a Word file and a page the same way ------------------------------------------


def outline_of_docx(document) -> list[tuple[int, str]]:
    """The headings as Word's navigation pane lists them: (level, text)."""
    found = []
    for paragraph in document.paragraphs:
        match = re.fullmatch(r"Heading (\d)", paragraph.style.name)
        if match:
            found.append((int(match[1]), paragraph.text))
    return found


def outline_of_html(text: str) -> list[tuple[int, str]]:
    tree = lxml_html.document_fromstring(text)
    for anchor in tree.xpath('//a[contains(@class, "anchor-link")]'):
        anchor.drop_tree()
    return [
        (int(h.tag[1]), " ".join(h.text_content().split()))
        for h in tree.xpath("//main//*[self::h1 or self::h2 or self::h3 or self::h4]")
    ]


def descriptions(document) -> list[str]:
    return [shape._inline.docPr.get("descr") for shape in document.inline_shapes]


def docx_text(document) -> str:
    """Every word of the body, tables included, spaces made plain."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return re.sub(r"\s+", " ", " ".join(parts).replace("\u00a0", " ").replace("\u202f", " "))


def header_text(document) -> str:
    return " ".join(p.text for s in document.sections for p in s.header.paragraphs)


def language(document) -> str:
    defaults = document.styles.element.find(f"{W}docDefaults")
    return defaults.find(f"{W}rPrDefault/{W}rPr/{W}lang").get(f"{W}val")


# --- the structure -------------------------------------------------------------------------


def test_headings_are_word_headings_with_the_pages_outline(page: str, written: Path) -> None:
    document = docx.Document(written)
    assert outline_of_docx(document) == outline_of_html(page)
    assert outline_of_docx(document)[:2] == [(1, "Évaluation — Lyon, 2025"), (2, "1. À retenir")]
    assert "¶" not in docx_text(document)
    assert "Sommaire" not in docx_text(document)  # the navigation pane does its job


def test_tables_are_word_tables_whose_header_repeats_on_every_page(written: Path) -> None:
    document = docx.Document(written)
    assert len(document.tables) == 2
    key_figures, offer = document.tables
    rows = key_figures._tbl.findall(f"{W}tr")
    assert rows[0].find(f"{W}trPr/{W}tblHeader") is not None
    assert all(row.find(f"{W}trPr/{W}tblHeader") is None for row in rows[1:])
    assert all(row.find(f"{W}trPr/{W}cantSplit") is not None for row in rows)
    assert [c.text for c in key_figures.rows[0].cells] == ["Indicateur", "Lyon", "Métropole"]
    # a line break and the small print stay in their cell
    assert key_figures.rows[1].cells[1].text == "76 %\n[57 % ; 89 %] · n = 25"
    # a table without <thead>: its row of <th> is the header; a colspan is a merged cell
    offer_rows = offer._tbl.findall(f"{W}tr")
    assert offer_rows[0].find(f"{W}trPr/{W}tblHeader") is not None
    assert offer.rows[0].cells[0].text == offer.rows[0].cells[1].text == "Structures"
    assert [c.text for c in offer.rows[2].cells] == ["23", "6", "29"]


def test_masked_cells_read_s_as_on_the_page(written: Path) -> None:
    table = docx.Document(written).tables[0]
    assert table.rows[1].cells[2].text == "s" and table.rows[2].cells[1].text == "s"
    run = table.rows[1].cells[2].paragraphs[0].runs[0]
    assert run.bold and run.font.color.rgb == RGBColor.from_string(word_styles.MASKED_COLOUR)


def test_every_picture_is_described_by_the_pages_alt_text(written: Path) -> None:
    document = docx.Document(written)
    assert descriptions(document) == ["Taux de réponse à l'enquête"]
    shape = document.inline_shapes[0]
    section = document.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    # 493 px of a 986 px page column: half the text width
    assert abs(shape.width - text_width / 2) < text_width / 100


def test_lists_are_word_lists_and_numbered_lists_restart(written: Path) -> None:
    document = docx.Document(written)
    numbered = {}
    for paragraph in document.paragraphs:
        numbering = paragraph._p.find(f"{W}pPr/{W}numPr")
        if numbering is not None:
            level = int(numbering.find(f"{W}ilvl").get(f"{W}val"))
            numbered[paragraph.text] = (numbering.find(f"{W}numId").get(f"{W}val"), level)
    assert {"Premier constat.", "Second constat, nuancé."} <= numbered.keys()
    assert numbered["Premier constat."][0] == numbered["Second constat, nuancé."][0]
    assert numbered["D'abord"][0] == numbered["Ensuite"][0] != numbered["Un autre point"][0]
    assert numbered["un détail"][1] == 1
    # each numbered list starts at 1
    numbering = document.part.numbering_part.element
    starts = {
        num.get(f"{W}numId"): num.find(f"{W}lvlOverride/{W}startOverride").get(f"{W}val")
        for num in numbering.findall(f"{W}num")
        if num.find(f"{W}lvlOverride") is not None
    }
    assert starts[numbered["D'abord"][0]] == starts[numbered["Un autre point"][0]] == "1"


def test_the_evaluators_analysis_keeps_its_formatting(written: Path) -> None:
    document = docx.Document(written)
    paragraph = next(p for p in document.paragraphs if p.text.startswith("Le territoire"))
    assert paragraph.text == ("Le territoire progresse, surtout en QPV ; voir le site de la Caf.")
    assert [r.text for r in paragraph.runs if r.bold] == ["progresse"]
    assert [r.text for r in paragraph.runs if r.italic] == ["surtout"]
    assert paragraph.hyperlinks[0].url == "https://www.caf.fr/"
    assert paragraph.hyperlinks[0].text == "le site de la Caf"
    styles = {p.text: p.style.name for p in document.paragraphs}
    assert styles["Une citation du comité."] == "Quote"
    assert styles["texte brut\nsur deux lignes"] == word_styles.CODE_STYLE
    assert styles["Données d'exemple fictives. Rien de réel."] == word_styles.BANNER_STYLE


def test_french_a4_numbered_pages_and_the_reports_properties(written: Path) -> None:
    document = docx.Document(written)
    assert language(document) == "fr-FR"
    properties = document.core_properties
    assert properties.title == "Lyon — évaluation PA 3.1.2, 2025"
    assert properties.author == "Caf du Rhône" and properties.language == "fr-FR"
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer = section.footer._element
    fields = [f.get(f"{W}instr").strip() for f in footer.iter(f"{W}fldSimple")]
    assert fields == ["PAGE", "NUMPAGES"]
    assert header_text(document).strip() == ""  # no banner in the partners' edition


def test_the_internal_edition_has_its_banner_on_every_page(page: str, tmp_path: Path) -> None:
    path = tmp_path / "rapport-interne.docx"
    word.html_to_docx(page, path, internal_banner=word.INTERNAL_BANNER)
    document = docx.Document(path)
    assert word.INTERNAL_BANNER in header_text(document)


# --- the institution's template --------------------------------------------------------------


def institution_template(folder: Path, suffix: str = ".docx") -> Path:
    """A template as an institution makes it: its own Titre 1, a logo line, sample text,
    and none of the workbook's own styles."""
    document = docx.Document(word.REFERENCE)
    heading = document.styles["Heading 1"]
    heading.font.color.rgb = RGBColor.from_string("C00000")
    heading.font.name = "Georgia"
    for name in (word_styles.TABLE_STYLE, word_styles.BANNER_STYLE, word_styles.TABLE_TEXT_STYLE):
        document.styles[name].element.getparent().remove(document.styles[name].element)
    document.sections[0].header.paragraphs[0].text = "Caf du Rhône — Direction de l'action sociale"
    document.add_paragraph("Texte d'exemple du modèle, à ne pas reprendre.")
    document.core_properties.author = "Service communication"
    path = folder / f"modele{suffix}"
    document.save(path)
    if suffix == ".dotx":  # Word's template: the same package, another content type
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "[Content_Types].xml":
                    content = content.replace(b"document.main+xml", b"template.main+xml")
                target.writestr(item, content)
    return path


@pytest.mark.parametrize("suffix", [".docx", ".dotx"])
def test_a_template_gives_its_styles_header_and_footer(
    page: str, tmp_path: Path, suffix: str
) -> None:
    template = word.check_template(institution_template(tmp_path, suffix))
    path = tmp_path / "rapport.docx"
    word.html_to_docx(page, path, template=template, author="Caf du Rhône",
                      internal_banner=word.INTERNAL_BANNER)  # fmt: skip
    document = docx.Document(path)
    heading = document.styles["Heading 1"]
    assert heading.font.color.rgb == RGBColor.from_string("C00000")
    assert heading.font.name == "Georgia"
    assert document.paragraphs[0].style.name == "Heading 1"
    header = header_text(document)
    assert "Caf du Rhône — Direction de l'action sociale" in header
    assert word.INTERNAL_BANNER in header
    # its sample text is not in the report, its properties are the report's
    assert "Texte d'exemple" not in docx_text(document)
    assert document.core_properties.author == "Caf du Rhône"
    # styles it lacks come from the default reference
    assert document.tables[0].style.name == word_styles.TABLE_STYLE
    assert outline_of_docx(document) == outline_of_html(page)


def test_a_template_saved_anew_is_read_anew(page: str, tmp_path: Path) -> None:
    """A warm kernel keeps the template's bytes (one read per batch), by its file's stamp:
    the communication service's corrected template is taken at the next report."""
    template = word.check_template(institution_template(tmp_path))
    word.html_to_docx(page, tmp_path / "avant.docx", template=template)
    document = docx.Document(template)
    document.styles["Heading 1"].font.name = "Verdana"
    document.save(template)
    os.utime(template, ns=(1, 1))  # a date no earlier read saw, whatever the clock's step
    word.html_to_docx(page, tmp_path / "apres.docx", template=template)
    assert docx.Document(tmp_path / "avant.docx").styles["Heading 1"].font.name == "Georgia"
    assert docx.Document(tmp_path / "apres.docx").styles["Heading 1"].font.name == "Verdana"


def test_a_template_that_is_not_a_word_file_is_said_in_french(tmp_path: Path) -> None:
    with pytest.raises(word.TemplateInvalid, match="modèle Word introuvable"):
        word.check_template(tmp_path / "absent.docx")
    wrong = tmp_path / "modele.docx"
    wrong.write_text("pas un document", encoding="utf-8")
    with pytest.raises(word.TemplateInvalid, match=r"modèle Word illisible .*modele\.docx"):
        word.check_template(wrong)
    assert word.check_template(None) is None


def test_the_default_reference_document_is_in_sync_with_its_code(tmp_path: Path) -> None:
    """`python -m avs_eval.word` writes templates/word/reference.docx: run it after a change."""
    fresh = tmp_path / "reference.docx"
    word.build_reference(fresh)
    with zipfile.ZipFile(word.REFERENCE) as committed, zipfile.ZipFile(fresh) as built:
        assert sorted(committed.namelist()) == sorted(built.namelist())
        for name in built.namelist():
            assert committed.read(name) == built.read(name), name
    document = docx.Document(word.REFERENCE)
    assert language(document) == "fr-FR"
    for name in (
        word_styles.TABLE_STYLE,
        word_styles.BANNER_STYLE,
        word_styles.TABLE_TEXT_STYLE,
        word_styles.CODE_STYLE,
    ):
        assert document.styles[name] is not None


def test_the_default_reference_is_shipped_with_the_package() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["avs_eval"]
    relative = word.REFERENCE.relative_to(Path(word.__file__).parent).as_posix()
    assert any(Path(relative).match(p) or p == "templates/**/*" for p in patterns)


# --- names and failures, as for the PDFs --------------------------------------------------------


class _Outcome:
    def __init__(self, name: str, folder: Path, stem: str) -> None:
        self.name, self.folder, self.stem = name, folder, stem


def test_file_names_beside_the_page_and_to_send(page: str, tmp_path: Path) -> None:
    for folder, stem in ((tmp_path / "lyon", "rapport"), (tmp_path, "synthese")):
        folder.mkdir(exist_ok=True)
        (folder / f"{stem}.html").write_text(page, encoding="utf-8")
    outcomes = [_Outcome("Lyon", tmp_path / "lyon", "rapport"),
                _Outcome("Synthèse", tmp_path, "synthese"),
                _Outcome("Val de Saône", tmp_path / "val-de-saone", "rapport")]  # fmt: skip
    partner = word.word_files(outcomes, tmp_path, YEAR, internal=False)
    assert [(f.docx.relative_to(tmp_path).as_posix(), f.copy.relative_to(tmp_path).as_posix())
            for f in partner] == [("lyon/rapport.docx", "envoi/lyon-2025.docx"),
                                  ("synthese.docx", "envoi/synthese-2025.docx")]  # fmt: skip
    internal = word.word_files(outcomes, tmp_path, YEAR, internal=True)
    assert [f.docx.name for f in internal] == ["rapport-interne.docx", "synthese-interne.docx"]
    assert all(f.copy is None for f in internal)  # not to be sent: no envoi/ copy, as the PDFs
    result = word.write_documents(partner, author="Caf du Rhône")
    assert result.exit_code == 0 and len(result.written) == 2
    assert (tmp_path / "envoi" / "lyon-2025.docx").read_bytes() == (
        tmp_path / "lyon" / "rapport.docx"
    ).read_bytes()
    assert "2 fichiers Word en" in result.lines()[0] and "envoi/" in result.lines()[0]


def test_a_full_disk_keeps_the_previous_file_and_says_so(
    page: str, tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "lyon").mkdir()
    (tmp_path / "lyon" / "rapport.html").write_text(page, encoding="utf-8")
    previous = tmp_path / "lyon" / "rapport.docx"
    previous.write_bytes(b"previous")
    files = word.word_files([_Outcome("Lyon", tmp_path / "lyon", "rapport")], tmp_path, YEAR,
                            internal=False)  # fmt: skip
    monkeypatch.setenv(testhooks.ENV, "disque-plein:*/lyon/rapport.docx")
    result = word.write_documents(files)
    assert result.exit_code == EXIT_ENVIRONMENT
    assert result.problem == "disque plein : libérez de la place, puis relancez"
    assert result.failures[0][0] == "Lyon" and "écriture impossible" in result.failures[0][1]
    assert previous.read_bytes() == b"previous"
    assert not list((tmp_path / "lyon").glob(".rapport.docx.*"))  # no temporary file left
    assert result.lines()[0].startswith("Fichiers Word non produits : disque plein")


def test_a_file_that_cannot_be_written_fails_that_report_only(page: str, tmp_path: Path) -> None:
    for slug in ("lyon", "val-de-saone"):
        (tmp_path / slug).mkdir()
        (tmp_path / slug / "rapport.html").write_text(page, encoding="utf-8")
    (tmp_path / "lyon" / "rapport.docx").mkdir()  # a folder where the file goes
    outcomes = [_Outcome("Lyon", tmp_path / "lyon", "rapport"),
                _Outcome("Val de Saône", tmp_path / "val-de-saone", "rapport")]  # fmt: skip
    result = word.write_documents(word.word_files(outcomes, tmp_path, YEAR, internal=False))
    assert result.exit_code == EXIT_INVALID and not result.problem
    assert [name for name, _ in result.failures] == ["Lyon"]
    assert result.failures[0][1].startswith("écriture impossible (")
    assert [f.name for f in result.written] == ["Val de Saône"]
    assert "ÉCHEC Word Lyon (le rapport HTML est publié) : écriture impossible" in "\n".join(
        result.lines()
    )


# --- a batch on the sample ---------------------------------------------------------------------


def _batch(
    out: Path, *arguments: str, territories: tuple[str, ...] = TERRITORIES
) -> tuple[Path, subprocess.CompletedProcess]:
    done = subprocess.run(
        [sys.executable, "-m", "avs_eval.cli", "rapports", "--territoire", *territories,
         "--sortie", str(out), *arguments],
        env={**os.environ, "HOME": "/nonexistent"}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out / (f"{YEAR}-interne" if "--interne" in arguments else str(YEAR)), done


def _manifest(year: Path) -> dict:
    return json.loads((year / "manifest.json").read_text(encoding="utf-8"))


class _Produced:
    """A batch's Word files (`avs-eval rapports --docx`), and what the batch said."""

    def __init__(self, year: Path, done: subprocess.CompletedProcess, internal: bool) -> None:
        self.year, self.stdout, self.manifest = year, done.stdout, _manifest(year)
        outcomes = [_Outcome(t, year / s, "rapport") for t, s in zip(TERRITORIES, SLUGS,
                                                                      strict=True)]  # fmt: skip
        outcomes.append(_Outcome("Synthèse", year, "synthese"))
        self.files = word.word_files(outcomes, year, YEAR, internal=internal)
        self.bytes = {p: p.read_bytes() for p in year.rglob("*.docx")}


@pytest.fixture(scope="module")
def produced(tmp_path_factory) -> dict[str, _Produced]:
    """Partners: a batch without --docx, then with it (re-made), then Lyon's alone (Val de
    Saône carried over)."""
    out = tmp_path_factory.mktemp("lot")
    without, _ = _batch(out)
    assert not list(without.rglob("*.docx"))
    partners = _Produced(*_batch(out, "--docx"), internal=False)
    again = _Produced(*_batch(out, "--docx", territories=("Lyon",)), internal=False)
    internal = _Produced(*_batch(out, "--docx", "--interne"), internal=True)
    return {"partenaires": partners, "encore": again, "interne": internal}


@pytest.mark.lent
def test_every_word_file_of_a_batch_has_its_pages_structure(produced) -> None:
    for edition in (produced["partenaires"], produced["interne"]):
        assert "3 fichiers Word en" in edition.stdout, edition.stdout
        for file in edition.files:
            page = file.html.read_text(encoding="utf-8")
            document = docx.Document(file.docx)
            assert outline_of_docx(document) == outline_of_html(page), file.docx
            tree = lxml_html.document_fromstring(page)
            assert len(document.tables) == len(tree.xpath("//main//table")), file.docx
            images = tree.xpath("//main//img")
            assert len(document.inline_shapes) == len(images) >= 3, file.docx
            assert descriptions(document) == [" ".join(i.get("alt").split()) for i in images]
            assert all(descriptions(document))
            assert language(document) == "fr-FR"
            assert document.core_properties.title == tree.findtext(".//title")
            assert document.core_properties.author == "Caf du Rhône"  # config.yaml's institution


@pytest.mark.lent
def test_the_batch_publishes_the_word_files_with_copies_to_send_and_links(produced) -> None:
    partners = produced["partenaires"]
    year = partners.year
    for file in partners.files:
        assert file.copy.read_bytes() == file.docx.read_bytes(), file.copy
    assert sorted(p.name for p in (year / "envoi").iterdir()) == [
        f"lyon-{YEAR}.docx",
        f"synthese-{YEAR}.docx",
        f"val-de-saone-{YEAR}.docx",
    ]
    index = (year / "index.html").read_text(encoding="utf-8")
    for link in ("lyon/rapport.docx", "val-de-saone/rapport.docx", "synthese.docx", "envoi/"):
        assert f'href="{link}"' in index, link
    assert "Word" in index
    assert partners.manifest["options"]["docx"] is True
    # --docx changes what a report publishes: the batch after one without it re-made them
    assert partners.manifest["refaits"] == 3
    reasons = {entry["raison"] for entry in partners.manifest["notebooks"]}
    assert reasons == {"options de la commande modifiées"}


@pytest.mark.lent
def test_word_files_are_carried_over_byte_for_byte_when_nothing_changed(produced) -> None:
    partners, again = produced["partenaires"], produced["encore"]
    carried = {e["nom"] for e in again.manifest["notebooks"] if not e["refait"]}
    assert carried == {"Val de Saône"}
    assert len(again.bytes) == 6  # 3 files and 3 copies
    for name in ("val-de-saone/rapport.docx", f"envoi/val-de-saone-{YEAR}.docx"):
        assert again.bytes[again.year / name] == partners.bytes[partners.year / name], name
    index = (again.year / "index.html").read_text(encoding="utf-8")
    assert 'href="val-de-saone/rapport.docx"' in index and 'href="lyon/rapport.docx"' in index


@pytest.mark.lent
def test_a_word_file_held_open_keeps_the_year_and_is_named(produced) -> None:
    """As Word holds an open file on Windows: the year in place stays whole, said in French."""
    year = produced["encore"].year
    before = {p: p.read_bytes() for p in year.rglob("*") if p.is_file()}
    held = {testhooks.ENV: "fichier-ouvert:lyon/rapport.docx"}
    done = subprocess.run(
        [sys.executable, "-m", "avs_eval.cli", "rapports", "--territoire", *TERRITORIES,
         "--sortie", str(year.parent), "--docx"],
        env={**os.environ, "HOME": "/nonexistent", **held},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "rapport.docx" in done.stderr and "ouvert dans un autre programme" in done.stderr
    assert "Traceback" not in done.stderr
    assert {p: p.read_bytes() for p in year.rglob("*") if p.is_file()} == before


@pytest.mark.lent
def test_the_internal_edition_names_its_word_files_and_sends_none(produced) -> None:
    internal = produced["interne"]
    names = sorted(p.relative_to(internal.year).as_posix() for p in internal.bytes)
    assert names == ["lyon/rapport-interne.docx", "synthese-interne.docx",
                     "val-de-saone/rapport-interne.docx"]  # fmt: skip
    assert not (internal.year / "envoi").exists()  # not to be sent
    index = (internal.year / "index.html").read_text(encoding="utf-8")
    assert 'href="lyon/rapport-interne.docx"' in index
    for file in internal.files:
        document = docx.Document(file.docx)
        for section in document.sections:
            assert word.INTERNAL_BANNER in " ".join(p.text for p in section.header.paragraphs)
        assert "édition interne" in document.core_properties.title


def test_a_word_template_that_cannot_be_read_stops_the_batch_before_it_starts(tmp_path) -> None:
    bad = tmp_path / "modele.docx"
    bad.write_text("pas un document Word", encoding="utf-8")
    for arguments, expected in (
        (["--docx", "--modele-word", str(bad)], "modèle Word illisible"),
        (["--docx", "--modele-word", str(tmp_path / "absent.docx")], "modèle Word introuvable"),
        (["--modele-word", str(bad)], "--modele-word ne sert qu'avec --docx"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "avs_eval.cli", "rapports", "--territoire", "Lyon",
             "--sortie", str(tmp_path / "sortie"), *arguments],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "sortie" / str(YEAR)).exists()


def test_a_template_given_in_config_yaml_is_used(tmp_path, monkeypatch) -> None:
    from avs_eval import config, paths
    from avs_eval.printing import PrintOptions

    template = institution_template(tmp_path)
    text = paths.CONFIG_FILE.read_text(encoding="utf-8")
    settings = tmp_path / "config.yaml"
    settings.write_text(text + f"\nmodele_word: {template}\n", encoding="utf-8")
    read = config.load_config.__wrapped__  # uncached
    monkeypatch.setattr(config, "load_config", lambda: read(settings))
    checked = PrintOptions(docx=True).checked()
    assert checked.modele_word == str(template) and checked.auteur == "Caf du Rhône"
    given = PrintOptions(docx=True, modele_word=str(template), auteur="Département").checked()
    assert given.auteur == "Département"
    assert PrintOptions(docx=True).fingerprint() != checked.fingerprint()


@pytest.mark.lent
def test_no_masked_share_and_s_where_the_page_shows_s(produced) -> None:
    """The Word file prints no share the page does not, and « s » in the same cells."""
    for file in produced["partenaires"].files:
        page = file.html.read_text(encoding="utf-8")
        document = docx.Document(file.docx)
        text = docx_text(document)
        main = lxml_html.document_fromstring(page).find(".//main")
        page_text = re.sub(r"\s+", " ", " ".join(main.itertext()))  # a space between cells
        page_text = page_text.replace("\u00a0", " ").replace("\u202f", " ")
        assert set(re.findall(r"\d+ %", text)) <= set(re.findall(r"\d+ %", page_text))
        tree = lxml_html.document_fromstring(page)
        masked_in_page = [
            [cell.text_content().strip() == "s" for cell in row.xpath("./td|./th")]
            for table in tree.xpath("//main//table")
            for row in table.xpath(".//tr")
        ]
        masked_in_word = [
            [cell.text == "s" for cell in row.cells]
            for table in document.tables
            for row in table.rows
        ]
        assert masked_in_word == masked_in_page, file.docx
        if file.name == "Val de Saône":  # mostly secret: a short report, still some « s »
            assert sum(map(sum, masked_in_word)) >= 1


@pytest.mark.lent
def test_partner_files_name_no_non_respondent_the_internal_ones_do(produced) -> None:
    internal = produced["interne"].files[0]  # Lyon
    page = lxml_html.document_fromstring(internal.html.read_text(encoding="utf-8"))
    names = [li.text_content().split(" (")[0] for li in page.xpath("//main//li")
             if "(Lyon, " in li.text_content()]  # fmt: skip
    assert names  # the internal page lists them
    internal_text = docx_text(docx.Document(internal.docx))
    partner_text = docx_text(docx.Document(produced["partenaires"].files[0].docx))
    for name in names:
        assert name in internal_text and name not in partner_text
    assert internal.docx.name == "rapport-interne.docx"
    assert word.INTERNAL_BANNER in header_text(docx.Document(internal.docx))
    assert word.INTERNAL_BANNER not in header_text(
        docx.Document(produced["partenaires"].files[0].docx)
    )
