"""A warm kernel reused notebook after notebook gives the same reports as a fresh one."""

from __future__ import annotations

import nbformat
import pytest
from conftest import run_cli

TERRITORIES = ["Ouest Nord", "Lyon"]
TEXT_TYPES = ("text/plain", "text/html", "text/markdown")


def run(folder, *options):
    result = run_cli(
        "rapports",
        "--annee",
        "2025",
        "--territoire",
        *TERRITORIES,
        "--sortie",
        str(folder),
        *options,
    )
    assert result.returncode == 0, result.stderr
    return folder / "2025"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    base = tmp_path_factory.mktemp("noyaux")
    # one worker: the same warm kernel runs all three notebooks one after the other
    warm = run(base / "chaud", "--jobs", "1")
    fresh = run(base / "neuf", "--jobs", "1", "--noyau-neuf")
    return warm, fresh


def text_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(("stream", output.get("text", "")))
            for kind in TEXT_TYPES:
                if kind in output.get("data", {}):
                    texts.append((kind, output["data"][kind]))
    return texts


@pytest.mark.lent
@pytest.mark.parametrize("folder", ["ouest-nord", "lyon"])
def test_same_indicator_table(both, folder):
    warm, fresh = both
    assert (warm / folder / "indicateurs.csv").read_bytes() == (
        fresh / folder / "indicateurs.csv"
    ).read_bytes()


@pytest.mark.lent
@pytest.mark.parametrize(
    "notebook", ["ouest-nord/rapport.ipynb", "lyon/rapport.ipynb", "synthese.ipynb"]
)
def test_same_text_outputs(both, notebook):
    warm, fresh = both
    warm_texts, fresh_texts = text_outputs(warm / notebook), text_outputs(fresh / notebook)
    assert warm_texts
    assert warm_texts == fresh_texts


def test_kernel_stderr_lines_are_shown_without_machine_paths_or_user_name(tmp_path):
    """What the journal quotes of a dead kernel's stderr names no folder of this machine."""
    import getpass
    from pathlib import Path

    from avs_eval import kernels, paths

    kernel = kernels.Kernel.__new__(kernels.Kernel)  # no process: only its stderr file
    kernel.stderr_file = tmp_path / "stderr.txt"
    lines = [f"ligne {n}" for n in range(30)] + [
        f'  File "{paths.PROJECT_ROOT / "avs_eval" / "report.py"}", line 3',
        f"Fatal Python error: Segmentation fault in {Path.home() / 'x.py'}",
    ]
    kernel.stderr_file.write_text("avant\n" + "\n".join(lines) + "\n", encoding="utf-8")
    shown = kernel.stderr_since(len("avant\n"))
    assert len(shown) == kernels.STDERR_LINES
    assert shown[-2] == '  File "avs_eval/report.py", line 3'
    assert str(Path.home()) not in "\n".join(shown)
    user = getpass.getuser()
    if len(user) > 2:
        assert user not in "\n".join(shown)
