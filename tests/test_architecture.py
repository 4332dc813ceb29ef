"""The package's shape: what each module may import, no cycle, nothing too long to read.

The table « Organisation du code » of docs/technique.md says, for each module, its job
and which of the package's modules it may import. This test reads the code (imports
inside functions included) and fails when a module imports one its row does not allow,
when a module has no row, when the imports close a cycle, when a module passes 800
lines or a function 120, when the numbers layer starts loading matplotlib, or when a
module uses another's private name: a newcomer can trust the table, and the layers stay
layers. (And one rule of the French the package writes: plurals agree in one place.)
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from avs_eval import paths

PACKAGE = paths.PROJECT_ROOT / "avs_eval"
TABLE = paths.PROJECT_ROOT / "docs" / "technique.md"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 120
ROW = re.compile(r"^\| `avs_eval/(\w+)\.py` \| ([^|]+) \| [^|]+ \| ([^|]*) \|$", re.M)
LAYERS = ("fondations", "paramètres", "données", "présentation", "production", "entrées")


def modules() -> dict[str, Path]:
    return {p.stem: p for p in sorted(PACKAGE.glob("*.py")) if p.stem != "__init__"}


def imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] != "avs_eval":
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "avs_eval" and len(parts) > 1:
                    found.add(parts[1])
    return (found & known) - {path.stem}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) for name, path in found.items()}


def table() -> dict[str, tuple[str, set[str]]]:
    """module -> (its layer, the modules it may import), as the table says."""
    text = TABLE.read_text(encoding="utf-8")
    return {
        name: (layer.strip(), set(re.findall(r"`(\w+)`", cell)))
        for name, layer, cell in ROW.findall(text)
    }


def allowed() -> dict[str, set[str]]:
    return {name: may for name, (_, may) in table().items()}


def test_layers_import_only_upwards():
    rows = table()
    assert {layer for layer, _ in rows.values()} <= set(LAYERS)
    rank = {name: LAYERS.index(layer) for name, (layer, _) in rows.items()}
    downward = [
        f"{name} ({rows[name][0]}) → {used} ({rows[used][0]})"
        for name, (_, may) in rows.items()
        for used in may
        if used in rank and rank[used] > rank[name]
    ]
    assert not downward, downward


def test_every_module_has_a_row_and_imports_only_what_it_may():
    rows = allowed()
    wrong = []
    for name, used in graph().items():
        if name not in rows:
            wrong.append(f"{name} : pas de ligne dans le tableau")
        elif used - rows[name]:
            wrong.append(
                f"{name} importe {sorted(used - rows[name])} (permis : {sorted(rows[name])})"
            )
    stale = set(rows) - set(modules())
    assert not wrong, wrong
    assert not stale, f"lignes sans module : {sorted(stale)}"


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle.extend([*trail[trail.index(nxt) :], nxt])
                return True
            if nxt not in state and visit(nxt, [*trail, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(edges):
        if start not in state and visit(start, [start]):
            break
    assert not cycle, " → ".join(cycle)


@pytest.mark.parametrize("path", list(modules().values()), ids=lambda p: p.name)
def test_modules_and_functions_stay_readable(path: Path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lignes)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long


@pytest.mark.parametrize("module", ["avs_eval.context", "avs_eval.geographie"])
def test_the_numbers_layer_loads_no_matplotlib(module: str):
    code = f"import sys, {module}; print('matplotlib' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "False"


def private_uses(path: Path, known: set[str]) -> list[str]:
    """Names with a leading underscore that `path` takes from another of the package's
    modules: `from avs_eval.x import _y`, or `x._y` where `x` is such a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound: set[str] = set()  # local names of the package's modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("avs_eval"):
            parts = node.module.split(".")
            for alias in node.names:
                if len(parts) == 1 and alias.name in known:
                    bound.add(alias.asname or alias.name)
                elif len(parts) > 1 and parts[1] != path.stem and alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "avs_eval" and len(parts) > 1 and alias.asname:
                    bound.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and node.value.id != path.stem
            and node.attr.startswith("_")
            and not node.attr.endswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return sorted(set(found))


def test_no_module_uses_another_s_private_names():
    """A leading underscore says « only this module relies on it »: what another module
    needs is named without one, with its docstring, so that changing it is visible."""
    known = set(modules())
    used = {name: private_uses(path, known) for name, path in modules().items()}
    assert {name: names for name, names in used.items() if names} == {}


# « part{'s' if n > 1 else ''} », « rest{'ent' if …} »: an agreement spelled by hand
INLINE_PLURAL = re.compile(r"""['"](?:s|ent|x)['"] if """)
# « fichier(s) créé(s) »: an agreement left to the reader
OPEN_PLURAL = re.compile(r"\w\(s\)")
JINJA_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def _texts(path: Path) -> list[tuple[int, str]]:
    """The text a reader may see in a module: its string constants and the literal parts
    of its f-strings (not the code inside their braces), docstrings left out (they are
    read by developers, and one of them quotes « structure(s) » as what not to write)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_plurals_agree_in_one_place():
    """Every count a reader sees agrees with its noun through `formatting.plural` or
    `formatting.counted` (singular for 0 and 1, thousands apart): a plural written by
    hand is where « 1 parts » or « 12345 erreurs » come from, and « 1 fichier(s)
    créé(s) » is the reader's work left undone."""
    templates = sorted((PACKAGE / "templates").rglob("*.j2"))
    sources = [*modules().values(), *templates]
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE_PLURAL.search(line)
    ]
    found += [
        f"{path.relative_to(PACKAGE)}:{number} {text!r}"
        for path in modules().values()
        for number, text in _texts(path)
        if OPEN_PLURAL.search(text)
    ]
    found += [
        f"{path.relative_to(PACKAGE)} {match.group()!r}"
        for path in templates
        for match in OPEN_PLURAL.finditer(JINJA_CODE.sub("", path.read_text(encoding="utf-8")))
    ]
    assert not found, found
