"""What goes wrong with input data, said so that an evaluator can fix it.

Every finding carries the file, the spreadsheet row, the column and the value,
because the person reading it has the spreadsheet open, not the code.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from avs_eval.formatting import count, counted

if TYPE_CHECKING:
    import numpy as np

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
        self.errors: Sequence[Finding] = _in_reading_order(errors)
        self.warnings: Sequence[Finding] = _in_reading_order(warnings)
        super().__init__(f"{counted(len(self.errors), 'erreur')} dans les données")

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
        f"  … et {counted(rest, f'autre {noun}', f'autres {noun}s')}"
        f" ; les {count(len(findings))} {noun}s par règle :"
    )
    groups = findings.per_rule() if isinstance(findings, Findings) else _per_rule(findings)
    for (fichier, colonne, _), (number, message) in sorted(
        groups.items(), key=lambda item: -item[1][0]
    ):
        where = f"{fichier}, colonne « {colonne} »" if colonne else fichier
        lines.append(f"  - {count(number)} × {where} : {message}")
    lines.append(f"  Liste complète, une ligne par {noun} : avs-eval valider --erreurs {noun}s.csv")
    return lines


def _per_rule(findings: Iterable[Finding]) -> dict[tuple[str, str, str], tuple[int, str]]:
    """(file, column, rule) -> (count, the message, or the rule when messages differ).

    In the order each group first appears, so that equal counts keep the reading order.
    """
    groups: Counter = Counter()
    example: dict[tuple, str] = {}
    for finding in findings:
        key = (finding.fichier, finding.colonne or "", rule_of(finding.message))
        groups[key] += 1
        if example.setdefault(key, finding.message) != finding.message:
            example[key] = key[2]  # messages differ in their particulars: the rule alone
    return {key: (count, example[key]) for key, count in groups.items()}


def findings_csv(findings: Iterable[Finding]) -> str:
    """Every finding, one row each, for a spreadsheet: UTF-8 with BOM and `;`, as Excel reads.

    Values are written as they are in the file (not shortened), so that a filter on
    them finds the cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FINDING_COLUMNS)
    if isinstance(findings, Findings):
        writer.writerows(findings.rows())
    else:
        for f in findings:
            line = "" if f.ligne is None else f.ligne
            writer.writerow([f.fichier, line, f.colonne or "", f.valeur or "", f.message])
    return "\ufeff" + out.getvalue()


def _reading_order(f: Finding) -> tuple:
    return (f.fichier, f.ligne or 0, f.colonne or "", f.message, f.valeur or "")


def _in_reading_order(findings: Iterable[Finding]) -> Sequence[Finding]:
    """Distinct findings in reading order: file, line, column, message, value."""
    if isinstance(findings, FindingLog | Findings):
        return FindingLog.of(findings).findings(READING_ORDER)
    return sorted(set(findings), key=_reading_order)


# --- findings in bulk ----------------------------------------------------------------
#
# A file of 100,000 structures may carry hundreds of thousands of warnings: one object
# each, built, hashed and sorted one at a time, costs more than reading the file. So the
# validator records them as columns (`FindingLog.add`), deduplicates, sorts and counts
# them per rule as columns (`Findings`), and builds a `Finding` only for the few listed
# in full; `--erreurs F.csv` is written from the columns.
# numpy and pandas are imported inside: `avs-eval --help` imports this module.

NO_LINE = -1  # a finding about a whole file or sheet: `ligne` is None
FIELDS = ("fichier", "ligne", "colonne", "valeur", "message")
# The orders of sorting: `ValidationError`'s (the message before the value it quotes) and
# the dataclass's own (the order of its fields), which `Dataset.warnings` has always had.
READING_ORDER = ("fichier", "ligne", "colonne", "message", "valeur")
FIELD_ORDER = FIELDS


class FindingLog:
    """Findings as they are met: one by one (`append`), or many rows of a rule (`add`).

    Stands where a list of findings stood (`append`, `extend`, `len`), so that code that
    writes one finding at a time, and callers that pass a list, need not change.
    """

    def __init__(self) -> None:
        self._single: list[Finding] = []
        self._blocks: list[tuple[Any, ...]] = []
        self._count = 0

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FindingLog:
        if isinstance(findings, FindingLog):
            return findings
        log = cls()
        log.extend(findings)
        return log

    def __len__(self) -> int:
        return self._count

    def append(self, finding: Finding) -> None:
        self._single.append(finding)
        self._count += 1

    def extend(self, findings: Iterable[Finding]) -> None:
        if isinstance(findings, Findings):
            self._blocks.append(findings.columns())
            self._count += len(findings)
        elif isinstance(findings, FindingLog):
            self._single += findings._single
            self._blocks += findings._blocks
            self._count += len(findings)
        else:
            for finding in findings:
                self.append(finding)

    def add(
        self,
        fichier: str,
        lines: np.ndarray,
        colonne: str | None,
        values: np.ndarray | str | None,
        messages: np.ndarray | str,
    ) -> None:
        """One finding per line; `values` and `messages` are one per line, or one for all."""
        import numpy as np

        lines = np.asarray(lines, dtype=np.int64)
        if not len(lines):
            return
        self._blocks.append((fichier, lines, colonne, values, messages))
        self._count += len(lines)

    def findings(self, order: tuple[str, ...] = READING_ORDER) -> Findings:
        """Distinct findings sorted by the fields of `order` (None as 0 or "")."""
        import numpy as np
        import pandas as pd

        if self._single:
            lines = [NO_LINE if f.ligne is None else f.ligne for f in self._single]
            self._blocks.append(
                (
                    np.array([f.fichier for f in self._single], dtype=object),
                    np.array(lines, dtype=np.int64),
                    np.array([f.colonne for f in self._single], dtype=object),
                    np.array([f.valeur for f in self._single], dtype=object),
                    np.array([f.message for f in self._single], dtype=object),
                )
            )
            self._single = []
        if not self._blocks:
            return Findings.empty()
        if len(self._blocks) > 1:  # one block of columns from now on
            columns = [
                np.concatenate([_broadcast(block[k], len(block[1])) for block in self._blocks])
                for k in range(len(FIELDS))
            ]
            self._blocks = [tuple(columns)]
        fichier, ligne, colonne, valeur, message = (
            _broadcast(column, len(self._blocks[0][1])) for column in self._blocks[0]
        )
        # object columns: pandas would otherwise read None as a missing string (NaN)
        frame = pd.DataFrame(
            {
                "fichier": pd.Series(fichier, dtype=object),
                "ligne": pd.Series(ligne, dtype="int64"),
                "colonne": pd.Series(colonne, dtype=object),
                "valeur": pd.Series(valeur, dtype=object),
                "message": pd.Series(message, dtype=object),
            }
        ).drop_duplicates()
        keys = pd.DataFrame(
            {
                "fichier": frame["fichier"],
                "ligne": frame["ligne"].clip(lower=0),
                "colonne": frame["colonne"].fillna(""),
                "valeur": frame["valeur"].fillna(""),
                "message": frame["message"],
            }
        )
        sorted_index = keys.sort_values(list(order), kind="stable").index
        frame = frame.loc[sorted_index]
        return Findings(*(frame[name].to_numpy() for name in FIELDS))


def record(
    sink: FindingLog | list[Finding],
    fichier: str,
    lines: np.ndarray,
    colonne: str,
    values: np.ndarray,
    messages: np.ndarray | str,
) -> None:
    """Findings for many rows at once: columns into a log, objects into a list."""
    if isinstance(sink, FindingLog):
        sink.add(fichier, lines, colonne, values, messages)
        return
    texts = [messages] * len(lines) if isinstance(messages, str) else list(messages)
    for line, value, text in zip(lines, values, texts, strict=True):
        sink.append(Finding(fichier, int(line), colonne, value, text))


def _broadcast(column: Any, length: int) -> np.ndarray:
    """A column of `length` values: an array as it is, one value repeated."""
    import numpy as np

    if isinstance(column, np.ndarray):
        return column
    if isinstance(column, list | tuple):
        return np.array(column, dtype=object)
    values = np.empty(length, dtype=object)
    values[:] = column
    return values


class Findings(Sequence[Finding]):
    """Distinct findings in their order, held as columns: a `Finding` built when asked for.

    A sequence like the list it replaces: `len`, indexing, slicing, iteration and
    comparison with a list behave the same. Iterating builds every object (once); the
    listing (`per_rule`) and the CSV (`rows`) read the columns instead.
    """

    def __init__(
        self,
        fichier: np.ndarray,
        ligne: np.ndarray,
        colonne: np.ndarray,
        valeur: np.ndarray,
        message: np.ndarray,
    ) -> None:
        self.fichier, self.ligne, self.colonne = fichier, ligne, colonne
        self.valeur, self.message = valeur, message
        self._all: list[Finding] | None = None

    @classmethod
    def empty(cls) -> Findings:
        import numpy as np

        nothing = np.array([], dtype=object)
        return cls(nothing, np.array([], dtype=np.int64), nothing, nothing, nothing)

    def columns(self) -> tuple[np.ndarray, ...]:
        return (self.fichier, self.ligne, self.colonne, self.valeur, self.message)

    def __len__(self) -> int:
        return len(self.ligne)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if self._all is not None:
            return self._all[index]
        if isinstance(index, slice):
            return [self._finding(i) for i in range(len(self))[index]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._finding(index)

    def _finding(self, i: int) -> Finding:
        line = int(self.ligne[i])
        return Finding(
            self.fichier[i],
            None if line == NO_LINE else line,
            self.colonne[i],
            self.valeur[i],
            self.message[i],
        )

    def __iter__(self) -> Iterator[Finding]:
        if self._all is None:
            lines = [None if line == NO_LINE else line for line in self.ligne.tolist()]
            self._all = list(
                map(
                    Finding,
                    self.fichier.tolist(),
                    lines,
                    self.colonne.tolist(),
                    self.valeur.tolist(),
                    self.message.tolist(),
                )
            )
        return iter(self._all)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Findings | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the list it replaces

    def __repr__(self) -> str:
        return f"Findings({len(self)} constats)"

    def rows(self) -> Iterator[list]:
        """Each finding as a row of `findings_csv`: no line and no column or value as ""."""
        lines = ["" if line == NO_LINE else line for line in self.ligne.tolist()]
        return map(
            list,
            zip(
                self.fichier.tolist(),
                lines,
                [c or "" for c in self.colonne.tolist()],
                [v or "" for v in self.valeur.tolist()],
                self.message.tolist(),
                strict=True,
            ),
        )

    def per_rule(self) -> dict[tuple[str, str, str], tuple[int, str]]:
        """As `_per_rule` reads objects, from the columns: each message's rule found once."""
        import pandas as pd

        if not len(self):
            return {}
        messages = pd.Series(self.message, dtype=object)
        rules = messages.map({m: rule_of(m) for m in pd.unique(self.message)})
        frame = pd.DataFrame(
            {
                "fichier": pd.Series(self.fichier, dtype=object),
                "colonne": pd.Series(self.colonne, dtype=object).fillna(""),
                "regle": rules,
                "message": messages,
            }
        )
        groups = frame.groupby(["fichier", "colonne", "regle"], sort=False, dropna=False)
        counts = groups.size()
        first = groups["message"].first()
        distinct = groups["message"].nunique()
        return {
            key: (int(counts[key]), first[key] if distinct[key] == 1 else key[2])
            for key in counts.index
        }


class UsageError(AvsEvalError):
    """A command-line or notebook parameter that makes no sense (unknown territory...)."""


class SecrecyAuditFailed(AvsEvalError):
    """The secrecy audit left sensitive cells an attacker narrows, whatever else it masks.

    Nothing may be published from such a table: the batch stops before writing, and the
    message names the cells and the settings that decide them.
    """

    exit_code = EXIT_INVALID


class EnvironmentProblem(AvsEvalError):
    """The run could not start or finish because of the machine, not the data.

    Another batch holds the output folder, the folder cannot be written, the disk is
    full, a published file is held open by another program. Retrying once the cause
    is gone is the remedy, so the message always says how.
    """

    exit_code = EXIT_ENVIRONMENT
