"""Where the data come from, and their fingerprints: no pandas here.

The batch decides what to re-make from the files' fingerprints before it reads a
single row, so this module stays importable in a few milliseconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from avs_eval import paths
from avs_eval.errors import UsageError

__all__ = ["DataSource", "sha256"]


@dataclass(frozen=True)
class DataSource:
    """Where the data come from: two files, one workbook, or the embedded sample."""

    structures: Path | None = None
    reponses: Path | None = None
    classeur: Path | None = None

    @classmethod
    def from_options(
        cls,
        structures: str | Path | None = None,
        reponses: str | Path | None = None,
        classeur: str | Path | None = None,
    ) -> DataSource:
        """Check the combination of options, resolve paths; nothing given = the sample."""
        structures, reponses, classeur = (
            paths.resolve(p) if p not in (None, "") else None
            for p in (structures, reponses, classeur)
        )
        if classeur and (structures or reponses):
            raise UsageError(
                "indiquez soit --classeur, soit --structures et --reponses, pas les deux"
            )
        if bool(structures) != bool(reponses):
            raise UsageError(
                "--structures et --reponses vont ensemble : indiquez les deux fichiers"
            )
        if not (classeur or structures):
            return cls.sample()
        return cls(structures, reponses, classeur)

    @classmethod
    def sample(cls) -> DataSource:
        return cls(paths.SAMPLE_STRUCTURES, paths.SAMPLE_RESPONSES)

    @property
    def is_sample(self) -> bool:
        return self == DataSource.sample()

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.classeur, self.structures, self.reponses) if p]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
