"""Reports as Word documents: the published HTML page, read back into Word's own structure.

Why from the published HTML: the Word file must say exactly what the page beside it says
(same masked cells, same charts, same sentences, same edition). Reading the page that
partners receive, rather than rendering the notebook a second way, leaves no room for a
difference: a cell the HTML shows as « s » is « s » here, a cell the HTML leaves out is
not here.

Why python-docx and not pandoc: the evaluators finish these files in Word, so what
matters is Word's own structure (heading styles for the navigation pane, table header
rows repeated across pages, alt text in each picture's description, numbered lists), all
of which python-docx writes directly. Pandoc would need a 30 MB binary per platform in
the lock, a process per report, and python-docx again for the header rows and the
banner. python-docx is pure Python over lxml, which has wheels everywhere the workbook
runs; a report takes a few tens of milliseconds.

The institution's template works like pandoc's `--reference-doc`: its styles, page
header, footer and logo are kept, its body is replaced by the report. A style the
report needs and the template lacks is taken from the default reference document
(`templates/word/reference.docx`, written by `build_reference`).

What the batch uses: `word_files` (which files to write, with their names) and
`write_documents`, which never raises for one report (its failure is reported, the
HTML stays published), like `avs_eval.pdf.print_documents`; or `WordWriter`, the same
one report at a time, as each page is ready.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from avs_eval import paths, plateforme
from avs_eval.caches import Recent, stamp
from avs_eval.errors import EXIT_USAGE, AvsEvalError
from avs_eval.formatting import counted, seconds
from avs_eval.output import StepResult, write_atomic
from avs_eval.word_html import BodyWriter
from avs_eval.word_styles import (
    A4,
    MASKED_COLOUR,
    REFERENCE,
    add_page_number,
    build_reference,
    empty_body,
    field_codes,
    new_paragraph,
    set_language,
    set_properties,
    twips,
)

__all__ = [
    "INTERNAL_BANNER",
    "REFERENCE",
    "TemplateInvalid",
    "WordFile",
    "WordResult",
    "WordWriter",
    "build_reference",
    "check_template",
    "html_to_document",
    "html_to_docx",
    "word_files",
    "write_documents",
]


INTERNAL_BANNER = "Édition interne — ne pas diffuser"


class TemplateInvalid(AvsEvalError):
    """The Word template given cannot be used: said in French, before the batch runs."""

    exit_code = EXIT_USAGE


def html_to_docx(
    html: str | Path,
    docx_path: str | Path,
    *,
    title: str | None = None,
    author: str = "",
    template: str | Path | None = None,
    internal_banner: str | None = None,
) -> None:
    """Write the Word edition of a published HTML report (a path or the page's text).

    The file is written atomically: a full disk or a file held open leaves the previous
    one in place, and the OSError reaches the caller (`write_documents` turns it into the
    batch's French message).
    """
    document = html_to_document(
        html, title=title, author=author, template=template, internal_banner=internal_banner
    )
    buffer = io.BytesIO()
    document.save(buffer)
    write_atomic(Path(docx_path), buffer.getvalue())


def html_to_document(
    html: str | Path,
    *,
    title: str | None = None,
    author: str = "",
    template: str | Path | None = None,
    internal_banner: str | None = None,
):
    """The report as a python-docx Document, on the template's styles, header and footer.

    `title` defaults to the page's <title>; `internal_banner` (the internal edition's
    warning) goes in the header of every page.
    """
    from lxml import html as lxml_html

    if isinstance(html, Path) or (isinstance(html, str) and "<" not in html[:1000]):
        html = Path(html).read_text(encoding="utf-8")
    tree = lxml_html.document_fromstring(html)
    if title is None:
        found = tree.findtext(".//title")
        title = " ".join(found.split()) if found else ""
    document = _open_template(template)
    empty_body(document)
    _page_setup(document, internal_banner)
    set_language(document)
    set_properties(document, title, author)
    root = tree.find(".//main")
    if root is None:
        root = tree.find(".//body")
    BodyWriter(document).blocks(root, document)
    return document


def check_template(path: str | Path | None) -> Path | None:
    """The template file given by the user, checked once before the batch runs.

    Raises TemplateInvalid with a French sentence (missing file, not a Word file).
    """
    if path is None or str(path) == "":
        return None
    path = Path(path).expanduser()
    if not path.is_file():
        raise TemplateInvalid(f"modèle Word introuvable : {path}")
    try:
        _template_bytes(path.resolve())
        _open_template(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise TemplateInvalid(
            f"modèle Word illisible : {path} n'est pas un document Word (.docx ou .dotx) "
            f"valide ({error})"
        ) from None
    return path


def _open_template(template: str | Path | None):
    import docx

    path = Path(template).expanduser() if template else REFERENCE
    data = _template_bytes(path.resolve())
    return docx.Document(io.BytesIO(data))


# The template's bytes by its file's stamp: read once per batch, again once saved anew.
_TEMPLATES: Recent[bytes] = Recent(2)  # the institution's and the shipped one


def _template_bytes(path: Path) -> bytes:
    """The template's bytes, read once per batch; a Word template (.dotx) as a document."""
    return _TEMPLATES.get(stamp(path), lambda: _as_document(path.read_bytes()))


def _as_document(data: bytes) -> bytes:
    """Word saves an institution's template as .dotx, which differs from a .docx only by
    its main part's content type."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        types = source.read("[Content_Types].xml")
        if b"template.main+xml" not in types:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == "[Content_Types].xml":
                    content = content.replace(b"template.main+xml", b"document.main+xml")
                target.writestr(item, content)
    return out.getvalue()


def _page_setup(document, internal_banner: str | None) -> None:
    """A4 portrait, page numbers in the footer, the internal banner in every header."""
    from docx.enum.section import WD_ORIENT

    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (twips(A4[0]), twips(A4[1]))
        footers = [section.footer]
        headers = [section.header]
        if section.different_first_page_header_footer:
            footers.append(section.first_page_footer)
            headers.append(section.first_page_header)
        if document.settings.odd_and_even_pages_header_footer:
            footers.append(section.even_page_footer)
            headers.append(section.even_page_header)
        for footer in footers:
            if "PAGE" not in field_codes(footer._element):
                add_page_number(footer)
        if internal_banner:
            for header in headers:
                _add_banner(header, internal_banner)


def _add_banner(header, text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import RGBColor

    paragraph = new_paragraph(header)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.color.rgb = RGBColor.from_string(MASKED_COLOUR)


@dataclass(frozen=True)
class WordFile:
    """One report to write in Word: its HTML, its Word file beside it, its copy to send."""

    name: str  # territory name or « Synthèse », for messages
    html: Path
    docx: Path
    copy: Path | None = None  # envoi/<slug>-<année>.docx


@dataclass
class WordResult(StepResult):
    """The Word files a batch wrote (`StepResult`)."""

    written: list[WordFile] = field(default_factory=list)

    FORMAT = "Word"
    NOT_MADE = "Fichiers Word non produits"

    @property
    def files(self) -> list[WordFile]:
        return self.written

    def made(self, each: float) -> str:
        files = counted(len(self.written), "fichier Word", "fichiers Word")
        return f"{files} en {seconds(self.seconds)} ({seconds(each, 2)} par rapport)"


def word_files(outcomes: Iterable, staging: Path, year: int, internal: bool) -> list[WordFile]:
    """The Word files of a batch's reports that have their HTML in the staging folder.

    Each outcome has `name`, `folder` and `stem` (`rapport`, `synthese`, `bilan`), as
    for the PDFs; a territory that failed but kept its previous HTML is written from it.
    """
    files = []
    for outcome in outcomes:
        folder = Path(outcome.folder)
        html = folder / f"{outcome.stem}.html"
        if not html.is_file():
            continue
        slug = outcome.stem if outcome.stem in ("synthese", "bilan") else folder.name
        files.append(
            WordFile(
                outcome.name,
                html,
                folder / paths.edition_file(outcome.stem, ".docx", internal),
                None if internal else Path(staging) / paths.envoi_name(slug, year, ".docx"),
            )
        )
    return files


def write_documents(
    files: list[WordFile],
    *,
    author: str = "",
    template: str | Path | None = None,
    internal_banner: str | None = None,
) -> WordResult:
    """Write every Word file; never raises for one report (its failure is reported).

    A full disk stops the step (the machine's problem, said once); a file that cannot be
    written is that report's failure, named as for the PDFs. Ctrl-C still interrupts.
    """
    writer = WordWriter(author=author, template=template, internal_banner=internal_banner)
    for file in files:
        writer.add(file)
    return writer.finish()


class WordWriter:
    """The Word files of a batch, each written when it is handed over (`add`).

    The batch hands a report over as soon as its page is in the staging folder, while
    the next notebooks run; `finish` says what was written, as `write_documents` does.
    """

    def __init__(
        self,
        *,
        author: str = "",
        template: str | Path | None = None,
        internal_banner: str | None = None,
    ) -> None:
        self.result = WordResult()
        self._options = {"author": author, "template": template, "internal_banner": internal_banner}

    def add(self, file: WordFile) -> None:
        """Write this file now; never raises for it (a full disk stops the next ones)."""
        result = self.result
        if result.problem:
            return
        started = time.perf_counter()
        try:
            document = html_to_document(file.html, **self._options)
            buffer = io.BytesIO()
            document.save(buffer)
            data = buffer.getvalue()
            write_atomic(file.docx, data)
            if file.copy is not None:
                write_atomic(file.copy, data)
        except Exception as error:  # one report's failure never stops the others
            result.failures.append((file.name, _reason(error)))
            if plateforme.is_disk_full(error):
                result.problem = "disque plein : libérez de la place, puis relancez"
            return
        finally:
            result.seconds += time.perf_counter() - started
        result.written.append(file)

    def finish(self) -> WordResult:
        return self.result


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return f"écriture impossible ({error.strerror or error})"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


if __name__ == "__main__":
    build_reference()
    print(f"écrit : {REFERENCE}")
