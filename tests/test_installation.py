"""Reproducible installs: pyproject.toml, requirements/lock.txt and environment.yml agree.

- the lock (written by `make verrou`) pins every requirement of every group of pyproject.toml,
  pins nothing pyproject.toml no longer asks for, and is resolved for Linux and Windows and for
  the Python version that environment.yml and the Makefile name;
- environment.yml takes only Python and pip from conda-forge, and the lock and the project
  through pip;
- the running environment is the lock (what `make installer` installs);
- every module imported by the package, the notebooks, the tests and the benchmarks is the
  standard library's, the project's, or a distribution declared in the group that needs it.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements" / "lock.txt"
LOCK_NAME = "requirements/lock.txt"
ENVIRONMENT = ROOT / "environment.yml"
MAKEFILE = ROOT / "Makefile"
PROJECT = "avs-eval"
PACKAGE = "avs_eval"

REGENERATE = "lancez « make verrou » (puis relisez git diff requirements/lock.txt)"
REINSTALL = "lancez « make installer »"

# Files of the package or notebooks that may also import an optional group's modules; every
# other file of avs_eval/ and notebooks/ imports the runtime dependencies only. tests/ and
# benchmarks/ may import any group's.
OPTIONAL_GROUPS_OF = {
    "avs_eval/explorer.py": ("explorateur",),
    "notebooks/explorateur.ipynb": ("explorateur",),
}


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    requirement: Requirement
    direct: bool  # the lock says it comes from pyproject.toml


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def _groups() -> dict[str, list[Requirement]]:
    """The runtime dependencies (group "") and each optional group, self-references left out."""
    project = _pyproject()["project"]
    groups = {"": project["dependencies"], **project.get("optional-dependencies", {})}
    return {
        group: [
            requirement
            for requirement in map(Requirement, specs)
            if canonicalize_name(requirement.name) != PROJECT
        ]
        for group, specs in groups.items()
    }


def _lock_pins() -> list[Pin]:
    pins = []
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"{LOCK_NAME}, ligne {index + 1} : « {line} » n'est pas épinglé (==) : {REGENERATE}"
        )
        via = []
        for annotation in lines[index + 1 :]:
            if not annotation.lstrip().startswith("#"):
                break
            via.append(annotation)
        pins.append(
            Pin(
                name=canonicalize_name(requirement.name),
                version=specifiers[0].version,
                requirement=requirement,
                direct=any(f"{PROJECT} (pyproject.toml)" in text for text in via),
            )
        )
    return pins


def _lock_command() -> str:
    header = LOCK.read_text(encoding="utf-8").splitlines()[:3]
    commands = [line.lstrip("# ").strip() for line in header if "pip compile" in line]
    assert commands, f"{LOCK_NAME} n'a pas été écrit par uv pip compile : {REGENERATE}"
    return commands[0]


def _makefile_python_version() -> str:
    found = re.search(r"^PYTHON_VERSION\s*:?=\s*(\S+)", MAKEFILE.read_text(encoding="utf-8"), re.M)
    assert found, "le Makefile ne définit plus PYTHON_VERSION"
    return found.group(1)


def test_lock_is_resolved_for_linux_and_windows_all_groups_and_one_python() -> None:
    command = _lock_command()
    for option in ("--universal", "--all-extras", "pyproject.toml"):
        assert option in command.split(), (
            f"{LOCK_NAME} n'a pas été calculé avec {option} ({command}) : {REGENERATE}"
        )
    found = re.search(r"--python-version[ =](\S+)", command)
    assert found, f"{LOCK_NAME} ne dit pas pour quelle version de Python il est calculé"
    python = found.group(1)
    assert python == _makefile_python_version(), (
        f"{LOCK_NAME} est calculé pour Python {python}, le Makefile pour "
        f"{_makefile_python_version()} : {REGENERATE}"
    )
    requires_python = SpecifierSet(_pyproject()["project"]["requires-python"])
    major, minor = python.split(".")
    below = f"{major}.{int(minor) - 1}.99"
    assert requires_python.contains(f"{python}.0") and not requires_python.contains(below), (
        f"le verrou doit être calculé pour la plus ancienne version de Python acceptée par "
        f"pyproject.toml ({requires_python}), pas pour {python}"
    )
    # Windows-only packages are in, behind their markers (e.g. colorama, pywinpty).
    windows = [
        pin.name
        for pin in _lock_pins()
        if pin.requirement.marker
        and re.search(r"sys_platform == .win32.|os_name == .nt.", str(pin.requirement.marker))
    ]
    assert windows, f"{LOCK_NAME} n'a aucun paquet propre à Windows : {REGENERATE}"


def test_every_pyproject_requirement_is_pinned_in_the_lock() -> None:
    pins: dict[str, list[Pin]] = {}
    for pin in _lock_pins():
        pins.setdefault(pin.name, []).append(pin)
    problems = []
    for group, requirements in _groups().items():
        where = f"[project.optional-dependencies] {group}" if group else "dependencies"
        for requirement in requirements:
            found = pins.get(canonicalize_name(requirement.name))
            if not found:
                problems.append(f"« {requirement} » ({where}) n'est pas dans le verrou")
                continue
            if not any(pin.direct for pin in found):
                problems.append(
                    f"« {requirement} » ({where}) n'est dans le verrou que comme dépendance "
                    f"d'un autre paquet"
                )
            for pin in found:
                if not requirement.specifier.contains(pin.version, prereleases=True):
                    problems.append(
                        f"« {requirement} » ({where}) : le verrou épingle {pin.version}"
                    )
    assert not problems, (
        f"pyproject.toml et {LOCK_NAME} ne concordent pas : {REGENERATE}\n- "
        + "\n- ".join(problems)
    )


def test_lock_pins_nothing_that_pyproject_no_longer_asks_for() -> None:
    declared = {
        canonicalize_name(requirement.name)
        for requirements in _groups().values()
        for requirement in requirements
    }
    stale = sorted(pin.name for pin in _lock_pins() if pin.direct and pin.name not in declared)
    assert not stale, (
        f"{LOCK_NAME} installe pour pyproject.toml des paquets qu'il ne déclare plus "
        f"({', '.join(stale)}) : {REGENERATE}"
    )


def test_environment_yml_installs_python_and_the_lock_only() -> None:
    environment = yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))
    assert environment["channels"] == ["conda-forge"]
    conda = [item for item in environment["dependencies"] if isinstance(item, str)]
    pip = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict)]
    python = _makefile_python_version()
    assert sorted(conda) == sorted([f"python={python}", "pip"]), (
        f"environment.yml ne doit demander à conda que python={python} (la version du verrou) "
        f"et pip, le reste venant du verrou : {conda}"
    )
    assert pip == [["-r requirements/lock.txt", "-e ."]], (
        "environment.yml doit installer par pip le verrou puis le projet : "
        f"« -r requirements/lock.txt » et « -e . », pas {pip}"
    )


def test_running_environment_is_the_lock() -> None:
    wrong = []
    for pin in _lock_pins():
        if pin.requirement.marker and not pin.requirement.marker.evaluate():
            continue
        try:
            installed = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{pin.name} absent (verrou : {pin.version})")
            continue
        if Version(installed) != Version(pin.version):
            wrong.append(f"{pin.name} {installed} (verrou : {pin.version})")
    assert not wrong, (
        f"l'environnement ne correspond pas à {LOCK_NAME} : {REINSTALL}\n- " + "\n- ".join(wrong)
    )


def test_package_data_globs_match_files() -> None:
    globs = _pyproject()["tool"]["setuptools"]["package-data"][PACKAGE]
    unused = [glob for glob in globs if not any((ROOT / PACKAGE).glob(glob))]
    assert not unused, f"[tool.setuptools.package-data] : motifs sans fichier : {unused}"


def _code_of(path: Path) -> str:
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    # IPython magics and shell escapes are not Python.
    return "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.M) for source in sources)


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of the absolute imports anywhere in the file (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(_code_of(path), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def _sources() -> list[Path]:
    return sorted(
        [
            *(ROOT / PACKAGE).rglob("*.py"),
            *(ROOT / "notebooks").glob("*.ipynb"),
            *(ROOT / "tests").glob("*.py"),
            *(ROOT / "benchmarks").rglob("*.py"),
        ]
    )


def _local_modules(path: Path) -> set[str]:
    """Modules of the file's own folder that it imports by name (tests' conftest, helpers)."""
    if path.is_relative_to(ROOT / PACKAGE) or path.suffix == ".ipynb":
        return set()
    return {sibling.stem for sibling in path.parent.glob("*.py")} | {
        package.name for package in path.parent.iterdir() if (package / "__init__.py").exists()
    }


def _allowed_groups(path: Path) -> tuple[str, ...]:
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith((f"{PACKAGE}/", "notebooks/")):
        return ("", *OPTIONAL_GROUPS_OF.get(relative, ()))
    return tuple(_groups())


def test_every_imported_module_is_declared_in_its_group() -> None:
    groups = _groups()
    providers = metadata.packages_distributions()
    problems = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        allowed = _allowed_groups(path)
        declared = {
            canonicalize_name(requirement.name)
            for group in allowed
            for requirement in groups.get(group, [])
        }
        names = ", ".join(f"[{group}]" if group else "dependencies" for group in allowed)
        for module in sorted(_imported_modules(path) - _local_modules(path)):
            if module in sys.stdlib_module_names or module == PACKAGE:
                continue
            distributions = {canonicalize_name(name) for name in providers.get(module, [])}
            if not distributions:
                problems.append(
                    f"{relative} importe {module}, qu'aucun paquet installé ne fournit : "
                    f"déclarez son paquet dans pyproject.toml, puis make verrou et make installer"
                )
            elif not distributions & declared:
                problems.append(
                    f"{relative} importe {module} (paquet {', '.join(sorted(distributions))}), "
                    f"non déclaré dans {names} de pyproject.toml : déclarez-le, puis make verrou"
                )
    assert not problems, "\n".join(problems)
