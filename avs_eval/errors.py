"""What goes wrong with input data, said so that an evaluator can fix it.

Every finding carries the file, the spreadsheet row, the column and the value,
because the person reading it has the spreadsheet open, not the code.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_SHOWN_VALUE = 60
# Findings shown in full in the terminal; the rest are counted by rule. A file wrong on
# every row would otherwise print hundreds of thousands of lines nobody reads; the full
# list goes to a CSV file (`avs-eval valider --erreurs F.csv`).
SHOWN = 50
FINDING_COLUMNS = ("fichier", "ligne", "colonne", "valeur", "message")


@dataclass(frozen=True, order=True)
class Finding:
    """One error or warning about one place of an input file."""

    fichier: str
    ligne: int | None
    colonne: str | None
    valeur: str | None
    message: str

    def __str__(self) -> str:
        where = [self.fichier]
        if self.ligne is not None:
            where.append(f"ligne {self.ligne}")
        if self.colonne:
            where.append(f"colonne « {self.colonne} »")
        if self.valeur is not None:
            where.append(f"valeur « {shorten(self.valeur)} »")
        return f"{', '.join(where)} : {self.message}"


def shorten(value: str) -> str:
    """A value as quoted in a message: one line, not too long, control characters shown."""
    text = str(value).replace("\r", "\\r").replace("\n", "\\n").replace("\ufeff", "<BOM>")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    if len(text) > MAX_SHOWN_VALUE:
        text = text[: MAX_SHOWN_VALUE - 1] + "…"
    return text


# Exit codes of every command (README, `--help`). When several apply, the highest wins.
EXIT_OK = 0
EXIT_INVALID = 1  # invalid data or parameters, or a report that failed
EXIT_USAGE = 2  # a misused option
EXIT_ENVIRONMENT = 3  # lock held, folder not writable, disk full, file held by another program
EXIT_INTERRUPTED = 130  # Ctrl-C


class AvsEvalError(Exception):
    """An error the user can act on; the CLI prints it in French, without a traceback.

    `exit_code` says which kind of failure it is, so that the CLI needs no list of classes.
    """

    exit_code = EXIT_USAGE


class ValidationError(AvsEvalError):
    """Input data break the contract; carries every error found, not only the first."""

    exit_code = EXIT_INVALID

    def __init__(self, errors: Iterable[Finding], warnings: Iterable[Finding] = ()) -> None:
        self.errors = sorted(set(errors), key=_reading_order)
        self.warnings = sorted(set(warnings), key=_reading_order)
        count = len(self.errors)
        plural = "s" if count > 1 else ""
        super().__init__(f"{count} erreur{plural} dans les données")

    def report(self, shown: int = SHOWN) -> str:
        """The first `shown` errors in full, then, if there are more, a count per rule."""
        lines = [f"{self}, à corriger :"]
        lines += listing(self.errors, "erreur", shown)
        return "\n".join(lines)


def rule_of(message: str) -> str:
    """What a message says without its particulars: the values, years and lines it quotes.

    « code inconnu « xyz » (codes acceptés : a, b) » and the same for « abc » are one rule;
    a detail in brackets that names a value or a number (« déjà ligne 8 ») is left out.
    """
    text = re.sub(r"\s*\([^()]*[«\d][^()]*\)", "", message)  # details naming a value
    text = re.sub(r"« [^»]* »", "« … »", text)
    return re.sub(r"\d+", "…", text).strip()


def listing(findings: Sequence[Finding], noun: str, shown: int = SHOWN) -> list[str]:
    """Lines for the terminal: every finding up to `shown`, beyond that a count per rule.

    The count covers all the findings (those shown too), by file, column and rule, so
    that the evaluator sees at once which rule fails where, and how often.
    """
    lines = [f"  - {f}" for f in findings[:shown]]
    if len(findings) <= shown:
        return lines
    rest = len(findings) - shown
    lines.append(
        f"  … et {_number(rest)} autre{'s' if rest > 1 else ''} {noun}{'s' if rest > 1 else ''}"
        f" ; les {_number(len(findings))} {noun}s par règle :"
    )
    groups: Counter = Counter()
    example: dict[tuple, str] = {}
    for finding in findings:
        key = (finding.fichier, finding.colonne or "", rule_of(finding.message))
        groups[key] += 1
        if example.setdefault(key, finding.message) != finding.message:
            example[key] = key[2]  # messages differ in their particulars: the rule alone
    for (fichier, colonne, _), count in sorted(groups.items(), key=lambda item: -item[1]):
        where = f"{fichier}, colonne « {colonne} »" if colonne else fichier
        message = example[(fichier, colonne, _)]
        lines.append(f"  - {_number(count)} × {where} : {message}")
    lines.append(f"  Liste complète, une ligne par {noun} : avs-eval valider --erreurs {noun}s.csv")
    return lines


def _number(count: int) -> str:
    """10000 as « 10 000 », as French readers write it."""
    return f"{count:,}".replace(",", "\u202f")


def findings_csv(findings: Iterable[Finding]) -> str:
    """Every finding, one row each, for a spreadsheet: UTF-8 with BOM and `;`, as Excel reads.

    Values are written as they are in the file (not shortened), so that a filter on
    them finds the cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FINDING_COLUMNS)
    for f in findings:
        line = "" if f.ligne is None else f.ligne
        writer.writerow([f.fichier, line, f.colonne or "", f.valeur or "", f.message])
    return "\ufeff" + out.getvalue()


def _reading_order(f: Finding) -> tuple:
    return (f.fichier, f.ligne or 0, f.colonne or "", f.message, f.valeur or "")


class UsageError(AvsEvalError):
    """A command-line or notebook parameter that makes no sense (unknown territory...)."""


class EnvironmentProblem(AvsEvalError):
    """The run could not start or finish because of the machine, not the data.

    Another batch holds the output folder, the folder cannot be written, the disk is
    full, a published file is held open by another program. Retrying once the cause
    is gone is the remedy, so the message always says how.
    """

    exit_code = EXIT_ENVIRONMENT
