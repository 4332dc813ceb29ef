"""The kernels of a batch's worker: started early, kept warm, reset, watched, stopped.

Everything goes through jupyter_client's public kernel manager and client
(`start_kernel`, `interrupt_kernel`, `shutdown_kernel(now=True)`, `is_alive`,
`execute`); the one OS difference (how to stop a kernel this instant) is in
`plateforme`. A worker keeps one warm kernel: it imports what the reports import
before the first notebook, and its namespace is reset before each of the next ones,
so a report starts as in a fresh kernel (figures use no pyplot state).

What a kernel writes to its own stderr (a crash of a C library, a fatal error) goes
to a file in its private folder, so that the run journal can quote the last lines of
a kernel that died.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import getpass
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from avs_eval import paths, plateforme

# A clean namespace before each notebook. Figures use no pyplot state, so there is no
# matplotlib state to reset; modules stay imported, which is the point of a warm kernel.
# `%reset -f` would end with a full garbage collection (0.3 s with pandas and matplotlib
# loaded, every notebook); the shell's own reset clears the same namespaces without it.
RESET_CODE = "get_ipython().reset(new_session=False)"
# What a warm kernel imports before its first notebook (what the report notebooks
# import); the modules already there (the kernel's own) are noted first, so that the
# manifest lists the versions of what the reports import and not of the kernel.
WARM_UP_CODE = "import avs_eval.kernels as _k; _k.mark_imports(); import avs_eval.report"
MARK_CODE = "import avs_eval.kernels as _k; _k.mark_imports()"
MODULES_EXPRESSION = "__import__('avs_eval.kernels').kernels.imported_modules()"
# No `Out` history (notebooks never read it, and flushing it forces a full garbage
# collection), no SQLite input history written by a background thread, and no log
# lines: ipykernel warns on every TCP kernel, which is not for the evaluator.
KERNEL_ARGUMENTS = [
    "--InteractiveShell.cache_size=0",
    "--HistoryManager.enabled=False",
    "--log-level=ERROR",
]
START_TIMEOUT = 60  # seconds for a kernel to answer
WARM_UP_TIMEOUT = 120
STDERR_LINES = 15  # lines of a kernel's stderr quoted in the journal


class Kernel:
    """One kernel process, its manager, and its private folder (sockets, stderr)."""

    def __init__(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self._run = run_sync
        self.manager = None
        self.process_group: int | None = None
        with _STARTING:  # a worker told to stop finds every kernel folder in _LIVE
            _LIVE.add(self)
            self.folder = Path(tempfile.mkdtemp(prefix="avs-eval-noyau-"))
        self.stderr_file = self.folder / "stderr.txt"
        # It must be an AsyncKernelManager, as the ones Papermill makes: with a blocking
        # one, nbclient waits for output in a blocking call and never notices a dead kernel.
        self.manager = AsyncKernelManager(
            kernel_name="python3",
            client_factory=ready_client_class(),
            **plateforme.kernel_connection(self.folder),
        )

    def launch(self) -> Kernel:
        """Start the process and return at once: it boots while the caller goes on.

        Under a lock, so that a worker told to stop never kills a half-started kernel,
        whose connection file would be left behind.
        """
        with _STARTING, open(self.stderr_file, "ab") as stderr:
            self._run(self.manager.start_kernel)(
                cwd=str(paths.NOTEBOOKS_DIR),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                extra_arguments=KERNEL_ARGUMENTS,
            )
            with contextlib.suppress(Exception):
                info = self._run(self.manager.provisioner.get_provisioner_info)()
                self.process_group = info.get("pgid")
        return self

    def wait_until_ready(self, code: str = "") -> None:
        """Wait for the kernel to answer, then run `code` (the warm-up) if any."""
        client = self._client()
        try:
            client.wait_for_ready(timeout=START_TIMEOUT)
            if code:
                self._execute(client, code, WARM_UP_TIMEOUT)
        finally:
            client.stop_channels()

    def reset(self) -> None:
        """Empty the namespace before the next notebook.

        A new client each time: a client kept connected between Papermill runs stops
        receiving its replies (each run drives the kernel from its own event loop).
        Only the shell channel is used: `execute_interactive` waits for IOPub to fall
        silent, 0.2 s or more of idle time per notebook.
        """
        client = self._client()
        try:
            self._execute(client, RESET_CODE, 30)
        finally:
            client.stop_channels()

    def modules(self) -> list[str]:
        """The top-level modules the notebooks imported in this kernel (not the kernel's)."""
        client = self._client()
        try:
            reply = self._execute(client, "", 30, {"v": MODULES_EXPRESSION})
            text = reply["content"]["user_expressions"]["v"]["data"]["text/plain"]
            return ast.literal_eval(text)
        except Exception:
            return []
        finally:
            client.stop_channels()

    def alive(self) -> bool:
        return bool(self._run(self.manager.is_alive)())

    def interrupt(self) -> None:
        """Ctrl-C in the kernel (a signal on POSIX, an event on Windows), from any thread."""
        with contextlib.suppress(Exception):
            self._run(self.manager.interrupt_kernel)()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self.manager.shutdown_kernel)(now=True)
        self._forget()

    def kill_now(self) -> None:
        """Stop at once, from any thread, even while a notebook runs in it."""
        if self.manager is not None:
            plateforme.kill_kernel_now(self.manager, self.process_group)
        self._forget()

    def stderr_position(self) -> int:
        try:
            return self.stderr_file.stat().st_size
        except OSError:
            return 0

    def stderr_since(self, position: int) -> list[str]:
        """The last lines the kernel wrote to stderr since `position`, safe to show."""
        try:
            with open(self.stderr_file, "rb") as handle:
                handle.seek(position)
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        lines = [anonymous(line) for line in text.splitlines() if line.strip()]
        return lines[-STDERR_LINES:]

    def _forget(self) -> None:
        _LIVE.discard(self)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _client(self):
        from jupyter_client.blocking import BlockingKernelClient

        client = BlockingKernelClient()
        client.load_connection_info(self.manager.get_connection_info())
        client.start_channels()
        return client

    @staticmethod
    def _execute(client, code: str, timeout: float, expressions: dict | None = None) -> dict:
        request = client.execute(
            code, silent=True, store_history=False, user_expressions=expressions or {}
        )
        while True:
            reply = client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == request:
                return reply


@functools.cache
def ready_client_class():
    """The client nbclient makes for each notebook, minus 0.2 s of waiting.

    jupyter_client's `wait_for_ready` checks that the kernel answers on the shell and
    IOPub channels, then waits for IOPub to stay silent for 0.2 s. nbclient skips
    every IOPub message that answers another request, so that silence is not needed;
    here it would be idle time before every notebook. Only public names are used.
    """
    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            _NOTEBOOK_CLIENTS.add(self)

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else START_TIMEOUT)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except queue.Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected too: the status messages of this request
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except queue.Empty:
                        pass
                    else:
                        return
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    return ReadyClient


# The clients nbclient made for the notebooks of a warm kernel. nbclient stops a client's
# channels only when it owns the kernel manager, and here the batch owns it: each
# notebook left a client whose IOPub socket went on receiving (and keeping, in ZeroMQ's
# memory) every message of the next notebooks, 10 MB more per notebook in a worker.
# Held strongly: nbclient drops its client when the notebook ends, but the client's
# channel threads run on.
_NOTEBOOK_CLIENTS: set = set()


def close_notebook_clients() -> None:
    """Stop the channels of the clients of the notebooks run so far (they are done)."""
    for client in list(_NOTEBOOK_CLIENTS):
        with contextlib.suppress(Exception):  # already closed, or its kernel gone
            client.stop_channels()
        _NOTEBOOK_CLIENTS.discard(client)


# --- the kernels of this worker process --------------------------------------------------

_LIVE: set[Kernel] = set()  # every kernel this process started and has not stopped yet
_STARTING = threading.Lock()  # held while a kernel is being created or started
_WARM: Kernel | None = None  # the kernel reused from notebook to notebook


def start(code: str = "") -> Kernel:
    kernel = Kernel().launch()
    kernel.wait_until_ready(code)
    return kernel


def launch_warm() -> None:
    """Start the warm kernel without waiting: it boots while the worker imports."""
    global _WARM
    with contextlib.suppress(Exception):
        _WARM = Kernel().launch()


def warm_up() -> None:
    """Wait for the warm kernel and make it import what the reports import.

    A kernel that fails here is not fatal: the first notebook starts another one, or
    reports in its outcome why it cannot.
    """
    if _WARM is None:
        return
    try:
        _WARM.wait_until_ready(WARM_UP_CODE)
    except Exception:
        discard_warm()


def for_next_notebook(warm: bool) -> Kernel:
    """The warm kernel, reset (restarted if it died); or a fresh one with --noyau-neuf."""
    global _WARM
    if not warm:
        return start(MARK_CODE)
    if _WARM is None or not _WARM.alive():
        discard_warm()
        _WARM = start(WARM_UP_CODE)
    _WARM.reset()
    return _WARM


def discard_warm() -> None:
    global _WARM
    if _WARM is not None:
        _WARM.stop()
        _WARM = None


def stop_all() -> None:
    """At the worker's normal exit."""
    global _WARM
    for kernel in list(_LIVE):
        kernel.stop()
    _WARM = None


def kill_all_now() -> None:
    """The batch is being stopped (invalid data, Ctrl-C): no time for a clean shutdown.

    Waits for a kernel being started to be started (a fraction of a second), never
    longer than a few seconds, and keeps the lock: the caller exits the process right
    after, and no other thread may start a kernel in between.
    """
    _STARTING.acquire(timeout=5)
    for kernel in list(_LIVE):
        kernel.kill_now()


class Watchdog:
    """Stops a notebook that outlives its time: an interrupt first, then the kernel itself.

    Papermill's own timeout is per cell; this one is per notebook, as users think of it.
    """

    GRACE = 10  # seconds between the interrupt and killing the kernel

    def __init__(self, kernel: Kernel, timeout: float) -> None:
        self.expired = threading.Event()
        self.timers = [
            threading.Timer(timeout, self._interrupt, (kernel,)),
            threading.Timer(timeout + self.GRACE, kernel.kill_now),
        ]
        for timer in self.timers:
            timer.daemon = True
            timer.start()

    def _interrupt(self, kernel: Kernel) -> None:
        self.expired.set()
        kernel.interrupt()

    def cancel(self) -> None:
        for timer in self.timers:
            timer.cancel()


# --- inside the kernel ---------------------------------------------------------------------

_BEFORE: set[str] = set()


def mark_imports() -> None:
    """Run in a kernel before the reports' imports: what is already there is the kernel's."""
    _BEFORE.update(name.partition(".")[0] for name in list(sys.modules))


def imported_modules() -> list[str]:
    """Run in a kernel after a report: the top-level modules it imported (not stdlib)."""
    names = {name.partition(".")[0] for name in list(sys.modules)}
    return sorted(names - _BEFORE - set(sys.stdlib_module_names) - {"avs_eval", "__main__"})


def versions_of(modules, distributions: dict[str, list[str]]) -> dict[str, str]:
    """{distribution: version} of the given top-level modules (`packages_distributions()`)."""
    from importlib.metadata import version

    found = {}
    for name in modules:
        for distribution in distributions.get(name, ()):
            with contextlib.suppress(Exception):
                found[distribution] = version(distribution)
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def anonymous(text: str) -> str:
    """A line safe for the journal: paths relative to the project, no home, no user name."""
    text = text.replace(str(paths.PROJECT_ROOT) + os.sep, "").replace(str(paths.PROJECT_ROOT), ".")
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
    with contextlib.suppress(Exception):
        user = getpass.getuser()
        if len(user) > 2:
            text = text.replace(user, "<utilisateur>")
    return text
