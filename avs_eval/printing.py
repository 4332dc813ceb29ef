"""The print step: a report's PDF and Word files, written from its HTML in the staging folder.

Both are made from the page that partners receive, never from a second rendering: the
PDF is the page printed by a browser (`avs_eval.pdf`), the Word file the page read back
into Word's structure (`avs_eval.word`). Both are written into the staging folder, so
that they are published with the year, whole, or not at all; a report whose PDF or Word
file failed keeps its HTML, and the summary and the exit code say so.

Any batch of pages uses this step the same way (`avs-eval rapports`, and the year's
review): `PrintOptions` says what to write, `print_step` writes it for the outcomes that
have a page. A year's batch prints as it runs (`PrintQueue`): each report's PDF is
printed, by the one browser of the batch, as soon as its page is ready, while the next
notebooks run; the files and what is said of them are those `print_step` writes.
`PrintOptions.checked` is called once, before the batch starts: a Word template that
cannot be read stops the batch before any notebook runs.

What each edition gets:
- partners: `rapport.pdf`, `rapport.docx` beside the page, copies named for sending in
  `envoi/` (`lyon-2025.pdf`, `synthese-2025.docx`);
- internal: `rapport-interne.pdf`, `rapport-interne.docx`, the warning « Édition interne —
  ne pas diffuser » in every page's header, and no `envoi/` (not to be sent).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avs_eval import paths

if TYPE_CHECKING:
    from avs_eval.pdf import PrintResult
    from avs_eval.word import WordResult

__all__ = ["PrintAtEnd", "PrintOptions", "PrintQueue", "Printed", "print_step"]


@dataclass(frozen=True)
class PrintOptions:
    """What the print step writes: PDF (with which browser), Word (with which template)."""

    pdf: bool = False
    docx: bool = False
    navigateur: str | None = None  # a path, or a command found on PATH; None: the first found
    modele_word: str | None = None  # None: config.yaml's `modele_word`, else the shipped one
    auteur: str | None = None  # the Word files' author; None: config.yaml's `institution`

    @classmethod
    def of(cls, options) -> PrintOptions:
        """What a batch's options (`options.BatchOptions`) ask the print step to write."""
        return cls(options.pdf, options.docx, options.navigateur, options.modele_word)

    def checked(self) -> PrintOptions:
        """The options with the Word template and author settled, the template checked.

        Raises `word.TemplateInvalid` (exit code 2, in French) for a template that is
        missing or not a Word file: said before any notebook runs, not after.
        """
        if not self.docx:
            return self
        from avs_eval.config import load_config
        from avs_eval.word import check_template

        config = load_config()
        given = self.modele_word or (
            str(paths.resolve(config.modele_word)) if config.modele_word else None
        )
        template = check_template(given)
        return dataclasses.replace(
            self,
            modele_word=str(template) if template else None,
            auteur=config.institution if self.auteur is None else self.auteur,
        )

    def fingerprint(self) -> dict:
        """What the reports' published files depend on among these options (`freshness`).

        A batch with --docx after one without re-makes the reports, as --pdf does: the
        year's files are then those of one batch, made with one set of options.
        """
        parts: dict = {"pdf": self.pdf}
        if self.docx:
            from avs_eval.sources import sha256

            template = self.modele_word
            parts["docx"] = sha256(Path(template)) if template else True
        return parts


@dataclass
class Printed:
    """What the print step wrote: None for a format not asked for."""

    pdf: PrintResult | None = None
    word: WordResult | None = None

    def results(self) -> list:
        return [result for result in (self.pdf, self.word) if result is not None]

    def lines(self) -> list[str]:
        """What the summary and the journal say about the PDF and Word files, in French."""
        return [line for result in self.results() for line in result.lines()]

    @property
    def exit_code(self) -> int:
        return max((result.exit_code for result in self.results()), default=0)

    def complete(self, html: Path) -> bool:
        """Whether every file asked for was written for this page (else it is re-made)."""
        if self.pdf is not None and html not in {document.html for document in self.pdf.printed}:
            return False
        return self.word is None or html in {file.html for file in self.word.written}


def print_step(
    outcomes, staging: Path, year: int, internal: bool, options: PrintOptions, parallel: int = 2
) -> Printed:
    """Write the PDF and Word files of the outcomes that have their page in `staging`.

    `outcomes` have `name`, `folder` (in the staging folder) and `stem` (`rapport`,
    `synthese`…), as the batch's. Never raises for one report: its failure is in the
    result. `options` as returned by `PrintOptions.checked`.
    """
    with PrintQueue(staging, year, internal, options, parallel) as queue:
        for outcome in outcomes:
            queue.add(outcome)
        return queue.finish(outcomes)


class PrintQueue:
    """The print step as the reports come: each page printed as soon as it is ready.

    A batch opens the queue before its notebooks run (the browser starts then, once)
    and hands each report over (`add`) as soon as its page is in the staging folder:
    its PDF is printed in the printer's thread and its Word file written while the next
    notebooks run. `finish` waits for the last PDF and says what was written, in the
    batch's order, exactly as `print_step` would have after the run. Leaving the `with`
    block on an error or Ctrl-C closes the browser.
    """

    def __init__(
        self, staging: Path, year: int, internal: bool, options: PrintOptions, parallel: int = 2
    ) -> None:
        self.staging, self.year, self.internal = Path(staging), year, internal
        self.options = options
        self.parallel = parallel
        self._pdf = None
        self._word = None

    def __enter__(self) -> PrintQueue:
        options = self.options
        if options.pdf:
            from avs_eval.pdf import Printer

            self._pdf = Printer(options.navigateur, self.parallel).__enter__()
        if options.docx:
            from avs_eval import word

            self._word = word.WordWriter(
                author=options.auteur or "",
                template=options.modele_word,
                internal_banner=word.INTERNAL_BANNER if self.internal else None,
            )
        return self

    def __exit__(self, kind, error, trace) -> None:
        if self._pdf is not None:
            self._pdf.__exit__(kind, error, trace)

    def add(self, outcome) -> None:
        """Print this report, if its page is in the staging folder (never raises for it)."""
        if self._pdf is not None:
            from avs_eval.pdf import report_documents

            for document in report_documents([outcome], self.staging, self.year, self.internal):
                self._pdf.add(document)
        if self._word is not None:
            from avs_eval.word import word_files

            for file in word_files([outcome], self.staging, self.year, self.internal):
                self._word.add(file)

    def finish(self, outcomes) -> Printed:
        """What was written, once the last PDF is printed, in the order of `outcomes`."""
        order = {outcome.name: i for i, outcome in enumerate(outcomes)}
        printed = Printed()
        if self._pdf is not None:
            printed.pdf = _in_order(self._pdf.finish(), order)
        if self._word is not None:
            printed.word = _in_order(self._word.finish(), order)
        return printed


class PrintAtEnd:
    """A print step that prints a batch's pages all at once, after the run (the bilan's
    one page), with the same face as `PrintQueue`."""

    def __init__(self, print_all) -> None:
        self.print_all = print_all  # outcomes -> Printed

    def __enter__(self) -> PrintAtEnd:
        return self

    def __exit__(self, kind, error, trace) -> None:
        pass

    def add(self, outcome) -> None:
        pass

    def finish(self, outcomes) -> Printed:
        return self.print_all(outcomes)


def _in_order(result, order: dict[str, int]):
    """A PDF or Word result with its files and failures in the batch's order."""
    last = len(order)
    result.files.sort(key=lambda file: order.get(file.name, last))
    result.failures.sort(key=lambda failure: order.get(failure[0], last))
    return result
