"""Writing outputs so that a reader never sees a half-written file, and saying what was
written: a step that writes one file per report (PDF, Word) reports it the same way."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from avs_eval import paths, testhooks
from avs_eval.errors import EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file in the same folder, then rename it into place.

    A crash or Ctrl-C mid-write leaves the previous file untouched, never a
    truncated one: the rename is atomic on the same file system.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    testhooks.check_write(path)  # tests only: a full disk on demand
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class StepResult:
    """What a step that writes one file per report did (`pdf.PrintResult`,
    `word.WordResult`): the files written, the reports whose file failed, and a problem
    that stopped the whole step (no browser, a full disk), said once.

    The batch's summary, its journal and its exit code read both alike: a report whose
    file failed keeps its published HTML, and the exit code says so (1); a step that
    could not run at all is the machine's problem (3).
    """

    failures: list[tuple[str, str]] = field(default_factory=list)  # (name, French reason)
    problem: str = ""
    seconds: float = 0.0

    FORMAT: ClassVar[str] = ""  # « PDF », « Word »: in each failure's line
    NOT_MADE: ClassVar[str] = ""  # « PDF non produits »: before the problem

    @property
    def files(self) -> list:
        """The files written, in the batch's order; each has `name` and `copy`."""
        raise NotImplementedError

    @property
    def exit_code(self) -> int:
        if self.problem:
            return EXIT_ENVIRONMENT
        return EXIT_INVALID if self.failures else EXIT_OK

    def made(self, each: float) -> str:
        """« 16 PDF en 12,3 s (0,8 s par rapport… »: what was written, and how fast."""
        raise NotImplementedError

    def lines(self) -> list[str]:
        """What the batch's summary and journal say about these files, in French."""
        lines = [f"{self.NOT_MADE} : {self.problem}"] if self.problem else []
        if self.files:
            line = self.made(self.seconds / len(self.files))
            if any(file.copy for file in self.files):
                line += f", copies à envoyer dans {paths.ENVOI}/"
            lines.append(line)
        for name, reason in self.failures:
            lines.append(f"ÉCHEC {self.FORMAT} {name} (le rapport HTML est publié) : {reason}")
        return lines
