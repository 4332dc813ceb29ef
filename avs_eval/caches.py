"""The one way the package keeps computed values between calls, in one process.

A pure function of hashable arguments is cached with `functools.cache` (the catalog,
the config). The other caches are written with `Recent`: their key is not the
arguments of the computation (a workbook is named by the digest of its bytes, a
chart's frame by what it shows, a Context by the stamps of its files), or what they
drop must be released. Each says how many values it keeps, because a warm kernel
runs report after report: the least recently used goes first, so memory stays flat.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


def stamp(path: str | os.PathLike) -> tuple[str, int, int]:
    """What a value read from a file is kept by: the file's path, modification time (in
    nanoseconds) and size.

    A file saved again changes its date, so the next call reads it again; reading its
    bytes for a digest would cost what the cache saves. Raises `OSError` for a file that
    cannot be reached: the caller says it in French, with the file.
    """
    status = os.stat(path)
    return (str(path), status.st_mtime_ns, status.st_size)


class Recent(Generic[V]):
    """At most `size` values by key; the least recently used is dropped first.

    `release` is called on each value dropped or cleared (a workbook to close).
    """

    def __init__(self, size: int, release: Callable[[V], object] | None = None) -> None:
        self.size = size
        self._release = release
        self._values: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for `key`, or `make()`'s, kept in place of the oldest.

        `make` is called only when `key` is missing, and is not kept; when it raises,
        nothing is dropped.
        """
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        value = make()
        while len(self._values) >= self.size:
            self._drop(next(iter(self._values)))
        self._values[key] = value
        return value

    def clear(self) -> None:
        """Drop every value (a workbook at the end of a validation, a test's fresh start)."""
        for key in list(self._values):
            self._drop(key)

    def __len__(self) -> int:
        return len(self._values)

    def _drop(self, key: Hashable) -> None:
        value = self._values.pop(key)
        if self._release is not None:
            self._release(value)
