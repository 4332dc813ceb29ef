"""What goes wrong with input data, said so that an evaluator can fix it.

Every finding carries the file, the spreadsheet row, the column and the value,
because the person reading it has the spreadsheet open, not the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_SHOWN_VALUE = 60


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

    def report(self) -> str:
        lines = [f"{self}, à corriger :"]
        lines += [f"  - {e}" for e in self.errors]
        return "\n".join(lines)


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
