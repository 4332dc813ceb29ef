"""Shared fixtures: the mini data set, ways to write modified copies of it, and the
`avs-eval` command run as a user runs it.

`mini` gives a fresh, editable copy of tests/fixtures/mini/{structures,reponses}.csv.
Rows are addressed by their spreadsheet row number (header = row 1), as in the
findings, so a test reads like the message it expects.

`cli` (or `run_cli`, for helpers outside a test) runs `avs-eval` in a subprocess, and
`environment` builds that subprocess's environment: one place for the command line, the
text decoding and the POSIX / portable switch, so a test says only what it runs.

Tests marked `lent` (batches, kernels, browsers, fault injection) are left out of
`make test-rapide`; `make test` runs them all.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pytest

from avs_eval import paths, plateforme
from avs_eval.errors import ValidationError
from avs_eval.loading import Dataset, load
from avs_eval.sources import DataSource

FIXTURES = Path(__file__).parent / "fixtures"
MINI_DIR = FIXTURES / "mini"
TABLES = ("structures", "reponses")

# --- the command, as a user runs it -------------------------------------------------------

CLI = (sys.executable, "-m", "avs_eval.cli")
"""The command line of `avs-eval` in this environment; `[*CLI, ...]` for a `subprocess.Popen`."""

BARE_PATH = "/usr/bin:/bin"
# What a copy of the project (`copy_project`) leaves out: this checkout's environment and
# outputs, and the test corpora no command reads.
PROJECT_IGNORED = (
    ".git", ".venv", "outputs", ".jupyter", "__pycache__", "*.egg-info", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "references", "malformes", ".cache",
)  # fmt: skip


def environment(
    path: str | None = None,
    *,
    project: Path | None = None,
    drop: Iterable[str] = (),
    **extra: str,
) -> dict[str, str]:
    """The environment of an `avs-eval` subprocess.

    `path` picks the batch's code path: "posix", or "portable" (`AVS_EVAL_PORTABLE=1`: TCP
    kernels, no signals of our own), the path a Windows machine takes; None leaves it as
    inherited. `project` is a copy of the project (`copy_project`): the subprocess then sees
    only that copy (`PYTHONPATH`), a bare `PATH` and the copy as its home, nothing of this
    process's environment, as on a user's machine. `drop` removes variables (a fault hook
    left set, a context file); `extra` sets variables.
    """
    if project is None:
        env = dict(os.environ)
    else:
        env = {"PYTHONPATH": str(project), "PATH": BARE_PATH, "HOME": str(project)}
    for name in drop:
        env.pop(name, None)
    if path is not None:
        env[plateforme.PORTABLE_ENV] = "1" if path == "portable" else "0"
    env.update(extra)
    return env


def run_cli(
    *arguments: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    project: Path | None = None,
    **options,
) -> subprocess.CompletedProcess:
    """`avs-eval ARGUMENTS` in a subprocess, its output captured as text (UTF-8).

    `env` defaults to this process's environment (see `environment`). With `project`, a
    copy of the project (`copy_project`), the command runs from that copy, on its code,
    with `environment(project=project)`, as on a user's machine. `options` go to
    `subprocess.run` (a `timeout`, `errors="replace"`…); ten minutes are enough for any
    batch of the suite, so a hung command fails instead of hanging the suite.
    """
    if project is not None:
        cwd = project if cwd is None else cwd
        env = environment(project=project) if env is None else env
    options = {"capture_output": True, "text": True, "encoding": "utf-8", "timeout": 600} | options
    return subprocess.run([*CLI, *arguments], cwd=cwd, env=env, **options)


def data_options(structures: Path, reponses: Path) -> list[str]:
    """`--structures S --reponses R`: the data options of every command."""
    return ["--structures", str(structures), "--reponses", str(reponses)]


@pytest.fixture(scope="session")
def cli():
    """`cli("valider", "--structures", …, cwd=folder)`: see `run_cli`."""
    return run_cli


@pytest.fixture(scope="session")
def cli_environment():
    """`cli_environment("portable", …)`: see `environment`."""
    return environment


def copy_project(target: Path, *ignored: str) -> Path:
    """The project as a user has it (code, notebooks, parameters, data) copied to `target`,
    for tests that change its files; `ignored` adds patterns to leave out."""
    shutil.copytree(
        paths.PROJECT_ROOT, target, ignore=shutil.ignore_patterns(*PROJECT_IGNORED, *ignored)
    )
    return target


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.reader(handle)]


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """Write rows as a CSV file; `encoding="cp1252"` and `sep=";"` is French Excel's CSV."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        if bom:
            handle.write("\ufeff")
        csv.writer(handle, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return path


def excel_value(text: str):
    """A cell as Excel stores it once typed in: digits become numbers."""
    return int(text) if text.isdigit() else (text or None)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write an XLSX workbook with one sheet per entry, in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


class MiniData:
    """An editable copy of the mini fixture, written to a folder on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = {name: read_csv_rows(MINI_DIR / f"{name}.csv") for name in TABLES}

    # --- editing -------------------------------------------------------------------

    def column_index(self, table: str, column: str) -> int:
        header = [h.strip().casefold() for h in self.rows[table][0]]
        return header.index(column.casefold())

    def set(self, table: str, line: int, column: str, value: str) -> MiniData:
        """Change one cell; `line` is the spreadsheet row number (header = 1)."""
        self.rows[table][line - 1][self.column_index(table, column)] = value
        return self

    def get(self, table: str, line: int, column: str) -> str:
        return self.rows[table][line - 1][self.column_index(table, column)]

    def append(self, table: str, **cells: str) -> int:
        """Add a row (missing cells empty); returns its spreadsheet row number."""
        header = self.rows[table][0]
        unknown = set(cells) - set(header)
        assert not unknown, f"colonnes inconnues de {table} : {unknown}"
        self.rows[table].append([cells.get(h, "") for h in header])
        return len(self.rows[table])

    def append_copy(self, table: str, line: int, **cells: str) -> int:
        """Add a copy of row `line` with some cells changed; returns its row number."""
        header = self.rows[table][0]
        base = dict(zip(header, self.rows[table][line - 1], strict=True))
        return self.append(table, **(base | cells))

    def drop_column(self, table: str, column: str) -> MiniData:
        position = self.column_index(table, column)
        for row in self.rows[table]:
            del row[position]
        return self

    def add_column(self, table: str, header: str, values: list[str] | None = None) -> MiniData:
        rows = self.rows[table]
        values = values or [""] * (len(rows) - 1)
        rows[0].append(header)
        for row, value in zip(rows[1:], values, strict=True):
            row.append(value)
        return self

    def rename_column(self, table: str, column: str, new: str) -> MiniData:
        self.rows[table][0][self.column_index(table, column)] = new
        return self

    def keep_lines(self, table: str, lines: list[int]) -> MiniData:
        """Keep the header and the given spreadsheet rows only."""
        rows = self.rows[table]
        self.rows[table] = [rows[0]] + [rows[n - 1] for n in lines]
        return self

    def copy(self) -> MiniData:
        other = MiniData.__new__(MiniData)
        other.folder = self.folder
        other.rows = copy.deepcopy(self.rows)
        return other

    # --- writing -------------------------------------------------------------------

    def write(self, *, sep: str = ",", encoding: str = "utf-8", bom: bool = False, suffix=""):
        """Write both tables as CSV; returns (structures path, reponses path)."""
        return tuple(
            write_csv(
                self.folder / f"{name}{suffix}.csv",
                self.rows[name],
                sep=sep,
                encoding=encoding,
                bom=bom,
            )
            for name in TABLES
        )

    def write_workbook(self, name: str = "classeur.xlsx", *, as_excel: bool = True) -> Path:
        """Both tables as sheets `structures` and `reponses` of one workbook."""
        convert = excel_value if as_excel else (lambda v: v)
        sheets = {
            table: [self.rows[table][0]] + [[convert(v) for v in r] for r in self.rows[table][1:]]
            for table in TABLES
        }
        return write_workbook(self.folder / name, sheets)

    def load(self, **write_options) -> Dataset:
        structures, reponses = self.write(**write_options)
        return load(DataSource.from_options(structures, reponses))

    def errors(self, **write_options) -> ValidationError:
        """The ValidationError raised by loading these tables (fails if none)."""
        structures, reponses = self.write(**write_options)
        with pytest.raises(ValidationError) as caught:
            load(DataSource.from_options(structures, reponses))
        return caught.value


@pytest.fixture
def mini_dir() -> Path:
    return MINI_DIR


@pytest.fixture
def mini(tmp_path: Path) -> MiniData:
    """A fresh editable copy of the mini fixture, written under tmp_path."""
    return MiniData(tmp_path)


@pytest.fixture(scope="session")
def mini_dataset() -> Dataset:
    """The mini fixture, loaded once: tests must not modify it."""
    return load(DataSource.from_options(MINI_DIR / "structures.csv", MINI_DIR / "reponses.csv"))


def load_or_raise(structures=None, reponses=None, classeur=None) -> Dataset:
    return load(DataSource.from_options(structures, reponses, classeur))


def raised(structures=None, reponses=None, classeur=None) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        load(DataSource.from_options(structures, reponses, classeur))
    return caught.value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """nbval's notebook cells run in a kernel: they are `lent`, like the batches, so that
    `-m "not lent"` leaves them out whatever paths are collected."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.lent)


# --- a browser, for the tests that drive JupyterLab (Playwright and Debian's Chromium) ----

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


@pytest.fixture
def one_browser_at_a_time(tmp_path_factory):
    """Hold a lock shared by pytest-xdist's workers (`make test` runs two) while a test
    drives JupyterLab in a browser: two servers, two browsers and their kernels at once
    on two cores make a kernel slower to start than the tests' waits."""
    if os.name == "nt":  # no fcntl; the browser tests need Debian's Chromium anyway
        yield
        return
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent  # the workers' basetemps sit side by side
    with open(shared / "navigateur.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"Chromium absent ({CHROMIUM}) : apt-get install chromium (.ci/run le fait)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab s'est arrêté au démarrage :\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                json.load(response)
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab ne répond pas après {timeout} s :\n{log.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL to its own process group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def report_notebook_with(target: Path, source: str, position: int) -> Path:
    """The territory report notebook with one more code cell at `position` (2: before the
    setup cell, 3: right after it), written to `target` for `rapports --modele`."""
    import nbformat

    notebook = nbformat.read(paths.NOTEBOOKS_DIR / "rapport_territoire.ipynb", as_version=4)
    notebook.cells.insert(position, nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, target)
    return target


def waiting_notebook(target: Path, started: Path, seconds: int = 10) -> Path:
    """A report notebook that says it has begun (`started` appears), then waits `seconds`:
    a batch interrupted once `started` exists is interrupted inside a notebook, however fast
    the machine (a batch of the small data can end within the two seconds a test used to
    wait), and a batch that missed the interrupt ends soon instead of hanging the test."""
    source = f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep({seconds})"
    return report_notebook_with(target, source, 2)
