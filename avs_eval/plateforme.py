"""Every difference between operating systems that the batch meets, and only those.

The workbook runs mostly on Windows laptops and sometimes on a Linux server. What
differs is gathered here so that the rest of the package reads the same on both:

- how kernels talk to their worker: IPC sockets in a private folder on POSIX, TCP on
  the loopback elsewhere (Windows has no IPC transport for ZeroMQ);
- how a kernel is stopped in a hurry: its process group killed at once on POSIX,
  the kernel manager's own shutdown elsewhere (no process groups, no SIGKILL);
- the lock of an output folder: `filelock`, which the OS releases when its process
  dies, so there is no process id to test for liveness;
- renames, which Windows refuses while another program holds a file open: retried
  briefly, then reported with the file that blocks;
- free space, and making a rename durable (a folder cannot be fsynced on Windows);
- waiting for a thread (the PDF printer's) so that Ctrl-C still interrupts: a join
  without a timeout cannot be interrupted on Windows.

`AVS_EVAL_PORTABLE=1` takes the non-POSIX path on Linux too, so the Windows code path
runs in the tests on every push; whatever it cannot imitate (a real Windows machine)
is said in the README.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import time
from pathlib import Path

from avs_eval import testhooks

PORTABLE_ENV = "AVS_EVAL_PORTABLE"
RENAME_TRIES = 5  # Windows: an antivirus or an indexer holds a new file for a moment
RENAME_PAUSE = 0.2  # seconds between two tries


def portable() -> bool:
    """True on Windows, and on POSIX when AVS_EVAL_PORTABLE asks for the Windows path."""
    if os.name != "posix":
        return True
    return os.environ.get(PORTABLE_ENV, "").strip() not in ("", "0")


# --- kernels ----------------------------------------------------------------------------


def kernel_connection(private: Path) -> dict:
    """The transport options of a kernel manager.

    An IPC address is a socket path, resolved against each process's working folder
    when relative: the kernel runs in notebooks/ and its worker does not, so it is an
    absolute path in the kernel's private folder.
    """
    if portable():
        return {"transport": "tcp", "ip": "127.0.0.1"}
    return {"transport": "ipc", "ip": str(private / "noyau")}


def kill_kernel_now(manager, process_group: int | None) -> None:
    """Stop a kernel at once, from any thread, when its worker must exit this instant.

    POSIX: the kernel's process group gets SIGKILL, which needs no event loop and
    takes whatever the kernel started with it. Elsewhere: the manager's public
    shutdown, which terminates the process.
    """
    if not portable() and process_group:
        with contextlib.suppress(OSError):
            os.killpg(process_group, signal.SIGKILL)
        with contextlib.suppress(Exception):
            manager.cleanup_connection_file()
        return
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        run_sync(manager.shutdown_kernel)(now=True)


# --- files and folders ------------------------------------------------------------------


class RenameRefused(OSError):
    """A rename that the OS kept refusing; `blocking` is the file to name to the user."""

    def __init__(self, source: Path, blocking: Path | None, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror, str(source))
        self.source = source
        self.blocking = blocking


def rename(source: Path, target: Path) -> None:
    """Rename a file or folder, replacing `target` if it is a file.

    A refusal (Windows: a file of the folder is open in Excel or a browser; Linux: a
    folder that cannot be written) is retried a few times, then raised as
    RenameRefused naming the file that blocks, where one can be found.
    """
    for attempt in range(RENAME_TRIES):
        try:
            testhooks.check_rename(source)
            os.replace(source, target)
            return
        except PermissionError as refused:
            if testhooks.ENV in os.environ or attempt == RENAME_TRIES - 1:
                raise RenameRefused(source, held_file(source), refused) from refused
            time.sleep(RENAME_PAUSE)


def held_file(folder: Path) -> Path | None:
    """The first file of `folder` that another program holds open, if it can be told.

    Windows refuses to open for writing a file that Excel has open; on POSIX nothing is
    ever held, and the folder itself is what blocks.
    """
    if not folder.is_dir():
        return folder if folder.exists() else None
    simulated = testhooks.held(folder)
    if simulated is not None:
        return simulated
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            with open(path, "ab"):
                pass
        except PermissionError:
            return path
        except OSError:
            continue
    return None


def sync_folder(folder: Path) -> None:
    """Make the renames inside `folder` durable (POSIX); Windows cannot open a folder."""
    if portable():
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def free_bytes(folder: Path) -> int:
    """Free space for this user in the file system of `folder` (quotas included where
    the OS reports them there)."""
    return testhooks.free_bytes(shutil.disk_usage(folder).free)


def is_disk_full(error: BaseException) -> bool:
    """ENOSPC, or a quota (EDQUOT) which the user meets the same way; Windows too."""
    if isinstance(error, OSError):
        if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return True
        return getattr(error, "winerror", None) in (39, 112)  # disk full, not enough space
    return False


_DISK_FULL = re.compile(r"\[(?:Errno (?:28|122)|WinError (?:39|112))\]")


def disk_full_message(text: str) -> bool:
    """The same, for an error known only by its message (raised inside a kernel)."""
    return bool(_DISK_FULL.search(str(text)))


def lock(path: Path):
    """An exclusive lock on `path`, refused at once if held; released when the process
    dies, whatever kills it."""
    from filelock import FileLock

    return FileLock(str(path), timeout=0)


def lock_refused() -> type[Exception]:
    from filelock import Timeout

    return Timeout


# --- threads ----------------------------------------------------------------------------

JOIN_SLICE = 0.2  # seconds: how soon Ctrl-C reaches a main thread waiting for another one


def join_thread(thread) -> None:
    """Wait for a thread to end, Ctrl-C still reaching the waiting thread.

    On Windows, a join without a timeout cannot be interrupted: Ctrl-C would wait for
    the thread (the last PDF of a batch). Waiting in short slices lets it through on
    every OS.
    """
    while thread.is_alive():
        thread.join(JOIN_SLICE)
