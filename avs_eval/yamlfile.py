"""YAML files edited by hand, read with their line numbers, checked key by key.

Evaluators edit these files (`parameters/`, an import's correspondence) by hand,
without Python: a mistake must be reported as « fichier, ligne, clé » in French,
never as a traceback. So mappings and lists keep the line each key and item came
from, and a `Checker` turns every wrong key, type or value into a `Finding`,
collecting all of them before anything is raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from avs_eval import paths
from avs_eval.errors import Finding, ValidationError
from avs_eval.formatting import counted


class ParameterError(ValidationError):
    """A file of `parameters/` is wrong: same listing as data errors, its own heading."""

    def __init__(self, errors, warnings=()) -> None:
        super().__init__(errors, warnings)
        self.args = (f"{counted(len(self.errors), 'erreur')} dans les paramètres (parameters/)",)

    def report(self) -> str:
        lines = [f"{self}, à corriger :"]
        lines += [f"  - {str(e).replace(', colonne « ', ', clé « ', 1)}" for e in self.errors]
        return "\n".join(lines)


class Lined(dict):
    """A YAML mapping that remembers its own line and the line of each key.

    A key written twice keeps its last value; `duplicates` holds (key, line) of each
    repetition, for a file whose checks report them.
    """

    line: int | None = None
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]


class LinedList(list):
    """A YAML sequence that remembers its own line and the line of each item."""

    line: int | None = None
    item_lines: list[int]


class LinedText(str):
    """A YAML scalar as written, with its line: the values of `read(path, text=True)`."""

    line: int | None = None


class _Loader(yaml.SafeLoader):
    @staticmethod
    def key_of(key: object) -> object:
        return str(key) if not isinstance(key, (int, float)) else key


class _TextLoader(_Loader):
    """Scalars as written: `Yes`, `1.0` or `2025` stay the text the user typed.

    For files whose values are labels and headers of someone else's export, where
    YAML's reading of `No` as false or of `1.0` as a number would change the text.
    """

    @staticmethod
    def key_of(key: object) -> str:
        return key.strip() if isinstance(key, str) else ""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Lined:
    result = Lined()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.duplicates = []
    for key_node, value_node in node.value:
        key = loader.key_of(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in result:
            result.duplicates.append((str(key), line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = line
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LinedList:
    result = LinedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    """A date, or its text when it cannot be one (2025-02-30): the checker then says
    « date invalide » at its line, where PyYAML would raise a bare ValueError."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value


def _text(loader: _TextLoader, node: yaml.ScalarNode) -> LinedText | None:
    if node.tag == "tag:yaml.org,2002:null":
        return None
    result = LinedText(loader.construct_scalar(node))
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
# every tag YAML gives a plain scalar (`No`, `1.0`, `2025-03-14`, `<<`, `=`...), and text
for _tag in {t for rules in _Loader.yaml_implicit_resolvers.values() for t, _ in rules}:
    _TextLoader.add_constructor(_tag, _text)
_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG, _text)

SYNTAX_ADVICE = (
    " (vérifiez l'indentation, les deux-points et les guillemets de cette ligne ou de la "
    "précédente)"
)


def read(
    path: Path,
    *,
    text: bool = False,
    error: type[ValidationError] = ParameterError,
    advice: bool = True,
) -> tuple[Any, str]:
    """Parse `path`; return the data and the file's label as shown in messages.

    `text`: scalars come as `LinedText` (as written, with their line), null as None;
    otherwise as YAML types them. `error`: raised when the file cannot be read or
    parsed (a file outside `parameters/` reports as data). `advice`: whether a
    syntax error says where to look (`SYNTAX_ADVICE`).
    """
    label = paths.display_path(path)
    try:
        content = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error([Finding(label, None, None, None, "fichier introuvable")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error([Finding(label, None, None, None, f"illisible ({exc})")]) from None
    try:
        data = yaml.load(content, Loader=_TextLoader if text else _Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        message = f"YAML invalide : {reason}" + (SYNTAX_ADVICE if advice else "")
        raise error([Finding(label, line, None, None, message)]) from None
    return data, label


class Checker:
    """Collects findings about one YAML file; every check returns a usable value."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.errors: list[Finding] = []

    def error(self, line: int | None, key: str | None, value: object, message: str) -> None:
        shown = None if value is None else _shown(value)
        self.errors.append(Finding(self.label, line, key, shown, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ParameterError(self.errors)

    # - structure
    def mapping(self, value: object, line: int | None, where: str) -> Lined:
        if isinstance(value, Lined):
            return value
        if value is not None:
            self.error(line, where, value, "un ensemble de clés « clé: valeur » est attendu")
        empty = Lined()
        empty.line, empty.key_lines, empty.duplicates = line, {}, []
        return empty

    def sequence(self, value: object, line: int | None, where: str) -> LinedList:
        if isinstance(value, LinedList):
            return value
        if value is not None:
            self.error(line, where, value, "une liste est attendue (éléments précédés de « - »)")
        empty = LinedList()
        empty.line, empty.item_lines = line, []
        return empty

    def keys(
        self, entry: Lined, where: str, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> None:
        allowed = tuple(allowed)
        for key in entry:
            if str(key) not in allowed:
                self.error(
                    entry.key_lines.get(str(key), entry.line),
                    _join(where, key),
                    None,
                    f"clé inconnue (clés possibles : {', '.join(allowed)})",
                )
        for key in required:
            if key not in entry or entry[key] in (None, ""):
                self.error(entry.line, _join(where, key), None, "clé obligatoire manquante")

    # - values
    def text(self, entry: Lined, key: str, where: str, default: str = "") -> str:
        value = entry.get(key)
        if value is None:
            return default
        if isinstance(value, (Lined, LinedList)):
            self.error(self.line(entry, key), _join(where, key), value, "un texte est attendu")
            return default
        return str(value).strip()

    def integer(
        self,
        entry: Lined,
        key: str,
        where: str,
        default: int | None = None,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        value = entry.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(
                self.line(entry, key), _join(where, key), value, "un nombre entier est attendu"
            )
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"entre {low} et {high}" if high is not None else f"au moins {low}"
            self.error(self.line(entry, key), _join(where, key), value, f"valeur attendue {bounds}")
            return default
        return value

    def boolean(self, entry: Lined, key: str, where: str, default: bool = False) -> bool:
        value = entry.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(self.line(entry, key), _join(where, key), value, "true ou false attendu")
            return default
        return value

    def choice(self, entry: Lined, key: str, where: str, allowed: tuple[str, ...], default=None):
        value = entry.get(key)
        if value is None:
            return default
        if str(value) not in allowed:
            self.error(
                self.line(entry, key),
                _join(where, key),
                value,
                f"valeur inconnue (valeurs possibles : {', '.join(allowed)})",
            )
            return default
        return str(value)

    def share(self, value: object, line: int | None, where: str) -> float | None:
        """A share between 0 and 1, as a target is written (0.6, not 60 %)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(line, where, value, "une part entre 0 et 1 est attendue (ex. 0.6)")
            return None
        if not 0 <= value <= 1:
            self.error(line, where, value, "une part entre 0 et 1 est attendue (ex. 0.6 pour 60 %)")
            return None
        return float(value)

    @staticmethod
    def line(entry: Lined, key: str) -> int | None:
        return entry.key_lines.get(key, entry.line) if isinstance(entry, Lined) else None


def _join(where: str, key: object) -> str:
    return f"{where} > {key}" if where else str(key)


def _shown(value: object) -> str:
    if isinstance(value, (Lined, LinedList)):
        return yaml.safe_dump(
            _plain(value), allow_unicode=True, default_flow_style=True, width=1000
        ).strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
