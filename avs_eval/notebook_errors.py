"""Errors in a notebook speak French, without a traceback, as the command line does.

An evaluator who mistypes a territory in the parameters cell should read one French
sentence with the valid values, not forty lines of Python. IPython's public hook for
this is `InteractiveShell.set_custom_exc`: for the package's own errors
(`errors.AvsEvalError`, whose message is written for the user) the cell's output is
that message only. The cell still fails (the kernel reports an error, with its name
and message), so Papermill and the batch stop at it and name it as before. Any other
exception keeps its full traceback: it is a bug to report, and the traceback is what
a developer needs.

One shortcut, in `_show` only: IPython 9 ignores what a custom handler returns, so the
handler hands its one-line "traceback" to `InteractiveShell._showtraceback`, the method
ipykernel overrides to send a cell's error. pyproject.toml bounds IPython below 10 and
tests/test_notebook_errors.py fails if this stops working.
"""

from __future__ import annotations

import sys

from avs_eval.errors import AvsEvalError, ValidationError

RED, RESET = "\x1b[31m", "\x1b[0m"


def message(error: AvsEvalError) -> str:
    """What the CLI prints for `error`, and what the notebook shows."""
    if isinstance(error, ValidationError):
        return error.report()
    return str(error)


def _show(shell, etype, value, tb, tb_offset=None) -> list[str]:
    shown = [f"{RED}{message(value)}{RESET}"]
    shell._showtraceback(etype, value, shown)  # the one private name (module docstring)
    return shown


def install() -> bool:
    """Register the French display in the running IPython kernel; False outside one.

    Free outside Jupyter: IPython is looked up, never imported.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    shell.set_custom_exc((AvsEvalError,), _show)
    return True
