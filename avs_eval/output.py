"""Writing outputs so that a reader never sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from avs_eval import testhooks


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
