"""Test hooks: faults on demand (a full disk, a refused rename, a kill), for the tests only.

Nothing in normal use switches them on. They exist because the reliability tests
(tests/test_publication.py, tests/test_publication_faults.py, tests/test_pdf.py)
must produce, on cue, what cannot be produced from outside: a crash in the middle of
a publication, a disk that fills while a kernel writes its table. The code that
writes, renames or publishes calls a hook at that point; the hook acts in whichever
process does the work (the batch, a worker, a kernel).

They are switched on by one environment variable, `AVS_EVAL_PANNE`, which a test
sets and the child processes inherit:

    AVS_EVAL_PANNE=disque-plein:*/lyon/*.csv     writes to matching paths fail (ENOSPC)
    AVS_EVAL_PANNE=renommage:2                   the 2nd rename of a publication is refused
    AVS_EVAL_PANNE=fichier-ouvert:lyon/rapport.html   a folder holding that file cannot be
                                                 renamed, as on Windows when Excel or a
                                                 browser has the file open
    AVS_EVAL_PANNE=arret:3                       the batch dies (like a power cut) at step 3
    AVS_EVAL_PANNE=place:1000                    the disk reports 1000 bytes free

Unset (always, outside the tests), every hook costs one look-up in `os.environ` and
does nothing: no file, no counter, no behaviour of its own.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from pathlib import Path

ENV = "AVS_EVAL_PANNE"
_renames = 0


def _fault() -> tuple[str, str]:
    kind, _, argument = os.environ.get(ENV, "").partition(":")
    return kind, argument


def check_write(path: str | Path) -> None:
    """Fail like a full disk when the file's path matches the injected pattern."""
    kind, pattern = _fault()
    if kind == "disque-plein" and fnmatch.fnmatch(Path(path).as_posix(), pattern):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def check_rename(source: str | Path) -> None:
    """Refuse a rename, as Windows does when a program holds a file of the folder."""
    global _renames
    kind, argument = _fault()
    refused = False
    if kind == "renommage":
        _renames += 1
        refused = str(_renames) == argument
    elif kind == "fichier-ouvert":
        refused = held(source) is not None
    if refused:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(source))


def held(folder: str | Path) -> Path | None:
    """The file of a published year that the injected fault says a program holds open."""
    kind, relative = _fault()
    published = Path(folder).name.isdigit()  # partners open published files, not staging
    if kind == "fichier-ouvert" and published and (Path(folder) / relative).exists():
        return Path(folder) / relative
    return None


def reset() -> None:
    """Start counting renames again (tests that inject several faults in one process)."""
    global _renames
    _renames = 0


def step(number: int) -> None:
    """Die at once at step `number` of a publication: no cleanup, no finally, no flush."""
    kind, wanted = _fault()
    if kind == "arret" and wanted == str(number):
        os._exit(137)


def free_bytes(measured: int) -> int:
    kind, amount = _fault()
    return int(amount) if kind == "place" else measured
