"""The journal of a run: what happened, for whoever has to explain a failure later.

One text file per run, `SORTIE/journaux/<année>-<date-heure>.txt` by default: outside
the published year, so it is never sent to partners. It is written as the run goes
(a killed batch leaves a journal up to its last notebook) and holds each notebook's
start, end, status and duration and, for a failure, the failing cell's error and the
last lines its kernel wrote to stderr. Paths are shown relative to the project and
no user name appears. A journal that cannot be written never stops a batch.
"""

from __future__ import annotations

import contextlib
import platform
import time
from pathlib import Path

from avs_eval import __version__, paths, plateforme
from avs_eval.formatting import seconds

FOLDER = "journaux"


def default_path(root: Path, year: int) -> Path:
    return root / FOLDER / f"{year}-{time.strftime('%Y%m%d-%H%M%S')}.txt"


def clock(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(seconds))


class RunJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError:
            self._stream = None

    def write(self, text: str = "") -> None:
        if self._stream is None:
            return
        try:
            self._stream.write(text + "\n")
        except OSError:  # a full disk must not stop the batch for its journal
            self._close()

    def header(self, year: int, inputs: dict[str, str], options: dict) -> None:
        self.write(
            f"avs-eval rapports — année {year}, lancé le {time.strftime('%d/%m/%Y %H:%M:%S')}"
        )
        self.write(
            f"avs-eval {__version__}, Python {platform.python_version()}, "
            f"{platform.system()} ; chemin {'portable' if plateforme.portable() else 'POSIX'}"
        )
        for name, digest in inputs.items():
            self.write(f"entrée : {name} (sha256 {digest[:16]}…)")
        shown = " ".join(f"{key}={value}" for key, value in options.items())
        self.write(f"options : {shown}")
        self.write()

    def note(self, text: str) -> None:
        self.write(f"[{clock(time.time())}] {text}")

    def notebook(self, outcome) -> None:
        start = outcome.started or time.time() - outcome.seconds
        status = "ok" if outcome.status == "ok" else "ÉCHEC"
        self.write(
            f"{outcome.name} : début {clock(start)}, fin {clock(start + outcome.seconds)}, "
            f"{status}, {seconds(outcome.seconds)}"
        )
        if outcome.status != "ok":
            self.write(f"    erreur : {outcome.error}")
            if outcome.stderr:
                self.write("    dernières lignes écrites par le noyau (stderr) :")
                for line in outcome.stderr:
                    self.write(f"    | {line}")

    def close(self, text: str, code: int) -> None:
        self.write()
        self.note(f"{text} — code de sortie {code}")
        self._close()

    def _close(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
            self._stream = None

    def shown(self) -> str:
        return paths.display_path(self.path)
