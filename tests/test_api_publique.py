"""The package reaches Papermill, nbclient, jupyter_client and nbconvert by public names only.

A private name (a leading underscore) can change in any release and break the batch
silently; the README's performance section lists the shortcuts kept: one, bounded
(`execution.skip_iri_grammar`, jsonschema<5), checked here. This test reads the package's
source, so it fails before a user does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from avs_eval import paths

LIBRARIES = ("papermill", "nbclient", "jupyter_client", "jupyter_core", "nbconvert", "nbformat")
# what the batch once used, found by name wherever it appears
KNOWN_PRIVATE = re.compile(
    r"_handle_kernel_info_reply|_async_is_alive|_init_resources|_nb_metadata|"
    r"provisioner\.pid\b|provisioner\.process\b|sys\.modules\s*\[|sys\.modules\.setdefault"
)
SOURCES = sorted((paths.PROJECT_ROOT / "avs_eval").glob("*.py"))
# the one shortcut kept, behind one small function (see its docstring)
SHORTCUT = ("execution.py", 'sys.modules.setdefault("rfc3987_syntax", None)')


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def library_names(tree: ast.AST) -> set[str]:
    """Names bound in a module to one of the libraries or to something imported from one."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    names.add((alias.asname or alias.name).split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in LIBRARIES
        ):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_no_private_name_of_the_notebook_libraries(source: Path):
    text = source.read_text(encoding="utf-8")
    tree = ast.parse(text)
    if source.name == SHORTCUT[0]:
        assert text.count(SHORTCUT[1]) == 1
        text = text.replace(SHORTCUT[1], "")
    found = [
        f"ligne {text[: m.start()].count(chr(10)) + 1} : {m[0]}"
        for m in KNOWN_PRIVATE.finditer(text)
    ]
    bound = library_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            private_module = any(is_private(part) for part in node.module.split("."))
            if node.module.split(".")[0] in LIBRARIES and (
                private_module or any(is_private(alias.name) for alias in node.names)
            ):
                found.append(f"ligne {node.lineno} : from {node.module} import …")
        elif (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
        ):
            found.append(f"ligne {node.lineno} : {node.value.id}.{node.attr}")
    assert not found, f"{source.name} utilise des noms privés : {found}"


def test_the_kernel_client_overrides_only_a_public_method():
    from jupyter_client.asynchronous import AsyncKernelClient

    from avs_eval.kernels import ready_client_class

    client = ready_client_class()
    own = {name for name in vars(client) if not name.startswith("_")}  # traitlets adds _names
    assert own == {"wait_for_ready"}
    assert hasattr(AsyncKernelClient, "wait_for_ready")


SHORTCUT_CHECK = """
import sys
from avs_eval.execution import skip_iri_grammar
skip_iri_grammar()
import jsonschema, nbformat
from importlib.metadata import version
notebook = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(notebook)
assert sys.modules.get("rfc3987_syntax") is None, "rfc3987_syntax importé malgré tout"
print(version("jsonschema"))
"""


def test_the_one_shortcut_still_holds_with_this_jsonschema():
    """If this fails after an upgrade: remove `skip_iri_grammar` (2 s per worker) or fix it."""
    import subprocess
    import sys

    from packaging.version import Version

    done = subprocess.run(
        [sys.executable, "-c", SHORTCUT_CHECK, str(paths.NOTEBOOKS_DIR / "synthese.ipynb")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        "execution.skip_iri_grammar ne tient plus avec cette version de jsonschema : "
        + done.stderr[-2000:]
    )
    assert Version(done.stdout.strip()) < Version("5"), (
        "jsonschema 5 : vérifier execution.skip_iri_grammar, puis relever la borne de "
        "pyproject.toml"
    )


def test_the_one_ipython_shortcut_stays_in_one_function():
    """IPython's `_showtraceback` is reached in `notebook_errors._show` only (IPython < 10)."""
    users = {
        source.name: source.read_text(encoding="utf-8").count("._showtraceback(")
        for source in SOURCES
        if "._showtraceback(" in source.read_text(encoding="utf-8")
    }
    assert users == {"notebook_errors.py": 1}
    text = (paths.PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"ipython>=8.20,<10"' in text
