"""Bring the export of a survey tool into the `reponses` table of the data contract.

Two sources:

- `kobo`: a KoboToolbox / ODK export of the form written by `avs-eval questionnaire
  --format xlsform`. Its question names are the contract's columns and its choice
  names the contract's codes, so the headers map by name once the group prefixes
  (`groupe/question`) and the tool's own columns (`start`, `_id`, `_uuid`...) are
  set aside; multiple choices come as space-separated codes, as split
  `question/code` 0/1 columns, or both.
- `correspondance`: any other export (Google Forms, LimeSurvey, a partner's
  spreadsheet) with a YAML mapping from its headers to contract columns and from
  its answer labels to codes. `parameters/correspondances/google_forms.yaml` is
  the mapping of a Google Forms copy of the questionnaire, generated from the
  vocabulary by `python -m avs_eval.importer`.

The imported table is then validated by the same code as any `reponses` file, but
on the user's export: every message names the export file, its row and its header,
the place the user can look at. Nothing is written unless the whole import is valid.
When a structure answered several times for one year, its latest submission is kept
and the others are reported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from avs_eval import paths, yamlfile
from avs_eval.catalog import load_catalog
from avs_eval.checks import Checker
from avs_eval.config import Config, load_config
from avs_eval.errors import Finding, ValidationError
from avs_eval.formatting import counted, plural
from avs_eval.loading import validate_responses
from avs_eval.questionnaire import STRUCTURE_LABEL, YEAR_LABEL, YES_NO_CHOICES
from avs_eval.reading import LINE, RawTable, read_table
from avs_eval.schema import normalise

SOURCES: tuple[str, ...] = ("kobo", "correspondance")
MAPPINGS_DIR = paths.PROJECT_ROOT / "parameters" / "correspondances"
GOOGLE_FORMS_MAPPING = MAPPINGS_DIR / "google_forms.yaml"

# Columns KoboToolbox and ODK add to every export, by their last path segment.
KOBO_META: frozenset[str] = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "instanceid",
        "instancename",
        "deprecatedid",
        "rootuuid",
        "uuid",
        "version",
    }
)
KOBO_META_GROUPS: frozenset[str] = frozenset({"meta", "formhub"})
KOBO_TIMESTAMPS: tuple[str, ...] = ("_submission_time", "end")
KOBO_SELECTED: frozenset[str] = frozenset({"1", "1.0", "true", "vrai", "oui"})
KOBO_NOT_SELECTED: frozenset[str] = frozenset({"", "0", "0.0", "false", "faux", "non"})
TIMESTAMP_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y/%m/%d %I:%M:%S %p",
    "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
)


def _key(text: str) -> str:
    """How headers and labels are compared: case, accents, apostrophes and spaces aside."""
    text = str(text).replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return normalise(text)


# --- the result ---------------------------------------------------------------------


@dataclass
class ImportResult:
    """The `reponses` table built from an export, and what the user must know about it."""

    source: str  # the export, as named in messages
    responses: pd.DataFrame  # contract columns, canonical text, one row per structure and year
    rows_read: int
    warnings: list[Finding] = field(default_factory=list)
    superseded: list[Finding] = field(default_factory=list)  # older submissions set aside
    unmapped_headers: list[str] = field(default_factory=list)
    tool_columns: list[str] = field(default_factory=list)  # the survey tool's own columns
    notes: list[str] = field(default_factory=list)

    def csv(self) -> str:
        """The contract's CSV: UTF-8, comma-separated, codes joined by ';', as the sample."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(load_catalog().response_columns)
        writer.writerows(
            self.responses[list(load_catalog().response_columns)].itertuples(index=False)
        )
        return buffer.getvalue()

    def summary(self) -> str:
        read, imported = self.rows_read, len(self.responses)
        lines = [
            f"{self.source} : {counted(read, 'soumission')} {plural(read, 'lue')}, "
            f"{counted(imported, 'réponse')} {plural(imported, 'importée')}"
        ]
        if self.superseded:
            set_aside = len(self.superseded)
            lines.append(
                f"{counted(set_aside, 'soumission')} {plural(set_aside, 'écartée')} : une "
                "soumission plus récente existe pour la même structure et la même année"
            )
            lines += [f"  - {f}" for f in self.superseded]
        if self.unmapped_headers:
            unmapped = len(self.unmapped_headers)
            lines.append(
                f"{counted(unmapped, 'colonne')} sans correspondance, "
                f"{plural(unmapped, 'ignorée')} : "
                + ", ".join(f"« {h} »" for h in self.unmapped_headers)
            )
        if self.tool_columns:
            shown = ", ".join(self.tool_columns[:12]) + ("…" if len(self.tool_columns) > 12 else "")
            tool = len(self.tool_columns)
            lines.append(
                f"{counted(tool, 'colonne')} {plural(tool, 'propre')} à l'outil d'enquête "
                f"{plural(tool, 'ignorée')} ({shown})"
            )
        return "\n".join(lines + self.notes)


@dataclass
class _Extract:
    """The export's rows laid out on contract columns, before validation.

    `frame` holds contract columns (text) and LINE; `headers` maps each contract
    column to the export header it came from, so messages name the user's column.
    """

    table: RawTable
    frame: pd.DataFrame
    headers: dict[str, str]
    timestamps: pd.Series | None  # parsed submission times, or None
    timestamp_header: str | None
    errors: list[Finding]
    unmapped_headers: list[str]
    tool_columns: list[str]
    notes: list[str] = field(default_factory=list)
    advice: str = ""  # how to get an export whose headers are recognised


# --- KoboToolbox / ODK --------------------------------------------------------------


def _kobo_layout(headers: list[str]):
    """Sort the export's headers into contract columns, split columns, tool columns, others."""
    direct: dict[str, list[int]] = {}
    split: dict[str, dict[str, int]] = {}
    tool: list[str] = []
    unknown: list[str] = []
    contract = set(load_catalog().response_columns)
    for position, header in enumerate(headers):
        parts = [p.strip() for p in header.split("/") if p.strip()]
        if not parts:
            continue
        name = parts[-1]
        if name in contract:
            direct.setdefault(name, []).append(position)
        elif (
            len(parts) >= 2
            and parts[-2] in load_catalog().list_columns
            and name in _codes(parts[-2])
        ):
            split.setdefault(parts[-2], {})[name] = position
        elif (
            name.startswith("_")
            or name.casefold() in KOBO_META
            or parts[0].casefold() in KOBO_META_GROUPS
        ):
            tool.append(header)
        else:
            unknown.append(header)
    return direct, split, tool, unknown


def _codes(column: str) -> tuple[str, ...]:
    return load_catalog().by_column[column].codes


def _kobo_extract(table: RawTable) -> _Extract:
    source = table.frame
    names = [c for c in source.columns if c != LINE]
    headers = [table.headers.get(c, c) for c in names]
    direct, split, tool, unknown = _kobo_layout(headers)
    errors: list[Finding] = []
    frame = pd.DataFrame({LINE: source[LINE]})
    origin: dict[str, str] = {}
    for column, positions in direct.items():
        if len(positions) > 1:
            found = ", ".join(f"« {headers[p]} »" for p in positions)
            errors.append(
                Finding(
                    table.label,
                    table.header_line,
                    headers[positions[1]],
                    headers[positions[1]],
                    f"la question {column} apparaît dans plusieurs colonnes ({found})",
                )
            )
        position = positions[0]
        values = source[names[position]]
        if column in load_catalog().list_columns:  # "a b c" -> "a;b;c", the contract's separator
            values = values.str.split().str.join(";")
        frame[column] = values
        origin[column] = headers[position]
    notes = []
    redundant = sum(len(p) for c, p in split.items() if c in direct)
    if redundant:
        notes.append(
            f"{counted(redundant, 'colonne')} « question/code » (0/1) "
            f"{plural(redundant, 'redondante')} avec les réponses complètes : "
            f"{plural(redundant, 'non relue', 'non relues')}"
        )
    for column, positions in split.items():
        if column in direct:
            continue
        notes.append(f"{column} : reconstitué à partir de {len(positions)} colonnes 0/1")
        frame[column], problems = _from_split_columns(table, names, column, positions)
        errors += problems
        origin[column] = f"{column}/…"
    ends = [header.split("/")[-1] for header in headers]
    found = [ends.index(wanted) for wanted in KOBO_TIMESTAMPS if wanted in ends]
    timestamps, timestamp_header = None, None
    if found:
        timestamp_header = headers[found[0]]
        timestamps = _timestamps(table, names[found[0]], errors)
    return _Extract(
        table,
        frame,
        origin,
        timestamps,
        timestamp_header,
        errors,
        unknown,
        tool,
        notes,
        advice=" (export KoboToolbox à faire en « valeurs et en-têtes XML », du formulaire "
        "écrit par avs-eval questionnaire)",
    )


def _from_split_columns(
    table: RawTable, names: list[str], column: str, positions: dict[str, int]
) -> tuple[pd.Series, list[Finding]]:
    """Rebuild a multiple-choice answer from its `question/code` 0/1 columns."""
    errors: list[Finding] = []
    selected = []
    for code in _codes(column):  # vocabulary order, whatever the export's order
        if code not in positions:
            continue
        name = names[positions[code]]
        values = table.frame[name].str.casefold()
        Checker(table, errors).flag(
            ~values.isin(KOBO_SELECTED | KOBO_NOT_SELECTED),
            name,
            "case à cocher attendue : 1 (coché), 0 ou vide (non coché)",
        )
        selected.append(values.isin(KOBO_SELECTED).map({True: code, False: ""}))
    if not selected:
        return pd.Series("", index=table.frame.index), errors
    joined = pd.concat(selected, axis=1).apply(lambda row: ";".join(c for c in row if c), axis=1)
    return joined, errors


def _missing_column(table: RawTable, column: str, unknown: list[str], advice: str = "") -> Finding:
    hint = advice
    if unknown:
        hint += " ; colonnes non reconnues : " + ", ".join(f"« {h} »" for h in unknown[:8])
    return Finding(
        table.label,
        table.header_line,
        None,
        column,
        f"aucune colonne pour la question {column} du contrat{hint}",
    )


# --- any export, with a YAML mapping ----------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """A YAML correspondence between an export and the contract, checked on reading."""

    label: str
    columns: dict[str, str]  # _key(export header) -> contract column
    values: dict[str, dict[str, str]]  # contract column -> _key(label) -> code
    labels: dict[str, tuple[str, ...]]  # contract column -> labels as written, for messages
    separator: str  # between labels in a multiple-choice cell
    timestamps: tuple[str, ...]  # _key of the headers that may hold the submission time
    ignored: frozenset[str]  # _key of headers deliberately left aside


MAPPING_KEYS = ("colonnes", "description", "horodatage", "ignorer", "separateur", "valeurs")


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; every mistake names the file, its line and the value.

    Read as text (`yamlfile.read(text=True)`): the labels and headers of an export
    are kept as written, `Non` or `1.0` included. Reported as data, not as parameters.
    """
    root, label = yamlfile.read(paths.resolve(path), text=True, error=ValidationError, advice=False)
    check = yamlfile.Checker(label)
    top = _entries(check, root, "")
    for key in top:
        if key not in MAPPING_KEYS:
            possible = ", ".join(MAPPING_KEYS)
            check.error(_line(top, key), None, key, f"clé inconnue (clés possibles : {possible})")
    columns: dict[str, str] = {}
    if "colonnes" not in top:
        check.error(None, None, None, "section « colonnes » manquante")
    headers = _entries(check, top.get("colonnes"), "colonnes")
    for header in headers:
        column = _scalar(headers[header])
        if column not in load_catalog().response_columns:
            possible = ", ".join(load_catalog().response_columns)
            check.error(
                _line(headers, header),
                f"colonnes > {header}",
                column,
                f"colonne inconnue du contrat (colonnes possibles : {possible})",
            )
        elif column in columns.values():
            check.error(
                _line(headers, header),
                f"colonnes > {header}",
                column,
                "colonne du contrat déjà associée à un autre en-tête",
            )
        columns[_key(header)] = column
    values: dict[str, dict[str, str]] = {}
    written: dict[str, tuple[str, ...]] = {}
    answers_by_column = _entries(check, top.get("valeurs"), "valeurs")
    for column in answers_by_column:
        question = load_catalog().by_column.get(column)
        if question is None or question.kind == "texte":
            possible = ", ".join(load_catalog().yes_no_columns + load_catalog().list_columns)
            check.error(
                _line(answers_by_column, column),
                "valeurs",
                column,
                f"pas une question à choix du contrat (questions possibles : {possible})",
            )
            continue
        allowed = question.codes or tuple(code for code, _ in YES_NO_CHOICES)
        answers = _entries(check, answers_by_column[column], f"valeurs > {column}")
        for answer in answers:
            code = _scalar(answers[answer])
            if code not in allowed:
                check.error(
                    _line(answers, answer),
                    f"valeurs > {column} > {answer}",
                    code,
                    f"code inconnu (codes possibles : {', '.join(allowed)})",
                )
        values[column] = {_key(answer): _scalar(code) for answer, code in answers.items()}
        written[column] = tuple(answers)
    separator = _scalar(top["separateur"]) if "separateur" in top else ", "
    if not separator:
        check.error(_line(top, "separateur"), None, "", "séparateur vide")
    timestamps = _list(check, top, "horodatage")
    ignored = _list(check, top, "ignorer")
    if check.errors:
        raise ValidationError(check.errors)
    return Mapping(
        label,
        columns,
        values,
        written,
        separator,
        tuple(_key(t) for t in timestamps),
        frozenset(_key(i) for i in ignored),
    )


def _line(entry: yamlfile.Lined, key: str) -> int | None:
    """The line of `entry[key]`: its own when it has one, else its key's (a blank value)."""
    return getattr(entry.get(key), "line", None) or entry.key_lines.get(key)


def _scalar(value: object) -> str:
    """A text value, stripped; "" for a blank one or a list or mapping where text is due."""
    return value.strip() if isinstance(value, str) else ""


def _entries(check: yamlfile.Checker, value: object, where: str) -> dict:
    """The key -> value pairs of a YAML mapping (keys as text), or {} with an error."""
    if value is None:
        return {}
    if not isinstance(value, yamlfile.Lined):  # text or a list: each knows its line
        check.error(value.line, where or None, None, "liste « clé: valeur » attendue")
        return {}
    for key, key_line in value.duplicates:
        check.error(key_line, where or None, key, "clé en double")
    return value


def _list(check: yamlfile.Checker, top: yamlfile.Lined, key: str) -> list[str]:
    value = top.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [_scalar(value)] if _scalar(value) else []
    if isinstance(value, list):
        return [_scalar(item) for item in value if _scalar(item)]
    check.error(_line(top, key), key, None, "texte ou liste de textes attendu")
    return []


def _mapped_extract(table: RawTable, mapping: Mapping) -> _Extract:
    source = table.frame
    names = [c for c in source.columns if c != LINE]
    headers = [table.headers.get(c, c) for c in names]
    errors: list[Finding] = []
    frame = pd.DataFrame({LINE: source[LINE]})
    origin: dict[str, str] = {}
    unknown: list[str] = []
    timestamps, timestamp_header = None, None
    for name, header in zip(names, headers, strict=True):
        key = _key(header)
        column = mapping.columns.get(key)
        if column is not None:
            if column in origin:
                errors.append(
                    Finding(
                        table.label,
                        table.header_line,
                        header,
                        header,
                        f"deux colonnes de l'export pour {column} (déjà « {origin[column]} »)",
                    )
                )
                continue
            frame[column] = _translate(table, name, header, column, mapping, errors)
            origin[column] = header
        elif key in mapping.timestamps and timestamps is None:
            timestamps = _timestamps(table, name, errors)
            timestamp_header = header
        elif key not in mapping.ignored:
            unknown.append(header)
    return _Extract(table, frame, origin, timestamps, timestamp_header, errors, unknown, [])


def _translate(
    table: RawTable, name: str, header: str, column: str, mapping: Mapping, errors: list[Finding]
) -> pd.Series:
    """Labels to codes; each distinct cell is translated once (a column has few of them)."""
    cells = table.frame[name]
    question = load_catalog().by_column.get(column)
    if question is None or question.kind == "texte":
        return cells
    labels = _labels(column, mapping)
    translated: dict[str, str] = {}
    unknown: dict[str, list[int]] = {}
    for cell in cells.unique():
        if question.kind == "liste":
            codes, missing = _split_labels(cell, labels, mapping.separator)
            translated[cell] = ";".join(codes)
        else:
            code = labels.get(_key(cell)) if cell else ""
            translated[cell] = code if code is not None else ""
            missing = [] if code is not None else [cell]
        for label in missing:
            unknown.setdefault(label, []).append(cell)
    for label, holders in unknown.items():
        rows = table.frame.loc[cells.isin(holders), LINE]
        others = f" ; aussi lignes {_lines(rows.iloc[1:])}" if len(rows) > 1 else ""
        errors.append(
            Finding(
                table.label,
                int(rows.iloc[0]),
                header,
                label,
                f"libellé sans correspondance pour {column}{others} : ajoutez-le sous "
                f"« valeurs > {column} » dans {mapping.label} (libellés connus : "
                + ", ".join(f"« {k} »" for k in _shown_labels(column, mapping))
                + ")",
            )
        )
    return cells.map(translated)


def _lines(lines: pd.Series, shown: int = 10) -> str:
    numbers = [str(int(n)) for n in lines.iloc[:shown]]
    more = f"… ({len(lines)} en tout)" if len(lines) > shown else ""
    return ", ".join(numbers) + more


def _labels(column: str, mapping: Mapping) -> dict[str, str]:
    """Accepted answers: the mapping's labels, then the contract's own codes and labels."""
    question = load_catalog().by_column[column]
    if question.kind == "oui_non":
        pairs = YES_NO_CHOICES
    else:
        pairs = tuple((m.code, m.libelle) for m in question.modalites)
    labels = {_key(code): code for code, _ in pairs} | {_key(text): code for code, text in pairs}
    return labels | mapping.values.get(column, {})


def _shown_labels(column: str, mapping: Mapping) -> list[str]:
    if column in mapping.labels:
        return list(mapping.labels[column])
    question = load_catalog().by_column[column]
    if question.kind == "oui_non":
        return [text for _, text in YES_NO_CHOICES]
    return [m.libelle for m in question.modalites]


def _split_labels(cell: str, labels: dict[str, str], separator: str) -> tuple[list[str], list[str]]:
    """Cut a multiple-choice cell into labels, when labels may themselves hold the separator.

    "Plaquette, affichage, Site internet" is two answers, not three: at each piece,
    the longest run of pieces that forms a known label wins.
    """
    if not cell:
        return [], []
    pieces = [p.strip() for p in cell.split(separator.strip() or separator)]
    codes: list[str] = []
    unknown: list[str] = []
    start = 0
    while start < len(pieces):
        for end in range(len(pieces), start, -1):
            candidate = (separator.strip() + " ").join(pieces[start:end]).strip()
            code = labels.get(_key(candidate))
            if code is not None:
                if code not in codes:
                    codes.append(code)
                start = end
                break
        else:
            if pieces[start]:
                unknown.append(pieces[start])
            start += 1
    return codes, unknown


# --- shared steps ---------------------------------------------------------------------


def _timestamps(table: RawTable, name: str, errors: list[Finding]) -> pd.Series:
    """Submission times, whatever the tool's format (ISO 8601, French, US, spreadsheet)."""
    cells = table.frame[name]
    text = cells.str.replace(r"\s*(UTC|GMT)\s*[+-]?\d*(:\d\d)?$", "", regex=True)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    for pattern in TIMESTAMP_FORMATS:
        missing = parsed.isna() & (text != "")
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(text[missing], format=pattern, errors="coerce", utc=True)
    Checker(table, errors).flag(
        parsed.isna() & (cells != ""),
        name,
        "date de soumission illisible (formats acceptés : 2025-03-14T10:22:31, "
        "14/03/2025 10:22:31)",
    )
    return parsed


def _structure_labels(frame: pd.DataFrame, structures: pd.DataFrame | None) -> None:
    """A structure chosen by its label in a list ("nom — commune") becomes its identifier."""
    if structures is None or "structure_id" not in frame.columns:
        return
    by_label = {}
    for row in structures.itertuples(index=False):
        for text in (f"{row.nom} — {row.commune}", f"{row.nom} - {row.commune}"):
            by_label[_key(text)] = str(row.structure_id)
    known = set(structures["structure_id"].astype(str))
    ids = frame["structure_id"]
    frame["structure_id"] = ids.map(
        lambda v: v if v in known or not v else by_label.get(_key(v), v)
    )


def _keep_latest(extract: _Extract) -> tuple[pd.DataFrame, list[Finding]]:
    """One submission per structure and year: the latest by submission time, else by order."""
    frame = extract.frame
    table = extract.table
    years = frame["annee"].str.replace(r"\.0+$", "", regex=True)
    key = frame["structure_id"].str.strip() + "|" + years
    complete = (frame["structure_id"] != "") & (years != "")
    order = pd.Series(range(len(frame)), index=frame.index)
    if extract.timestamps is not None:
        when = extract.timestamps
        rank = pd.DataFrame({"t": when, "o": order})  # no date: older than any dated one
        sorted_index = rank.sort_values(["t", "o"], na_position="first").index
    else:
        sorted_index = order.index
    latest = ~key.loc[sorted_index].duplicated(keep="last")
    latest = latest.reindex(frame.index) | ~complete
    kept_line = frame.loc[latest & complete].set_index(key[latest & complete])[LINE]
    superseded = []
    for index in frame.index[~latest]:
        line = int(frame.at[index, LINE])
        newer = int(kept_line[key[index]])
        if extract.timestamps is not None and pd.notna(extract.timestamps[index]):
            when = extract.timestamps[index].strftime("%d/%m/%Y %H:%M")
            reason = f"soumise le {when}, remplacée par la soumission plus récente de la ligne"
        else:
            reason = "remplacée par la soumission suivante, ligne"
        superseded.append(
            Finding(
                table.label,
                line,
                extract.headers.get("structure_id", "structure_id"),
                frame.at[index, "structure_id"],
                f"soumission écartée pour {years[index]} : {reason} {newer}",
            )
        )
    return frame.loc[latest], superseded


def _finish(extract: _Extract, structures: pd.DataFrame | None, config: Config) -> ImportResult:
    table = extract.table
    errors = list(extract.errors)
    missing = [c for c in load_catalog().response_columns if c not in extract.frame.columns]
    for column in missing:
        errors.append(_missing_column(table, column, extract.unmapped_headers, extract.advice))
    if missing:
        raise ValidationError(errors)
    _structure_labels(extract.frame, structures)
    kept, superseded = _keep_latest(extract)
    contract = RawTable(
        table.label,
        kept[[*load_catalog().response_columns, LINE]].reset_index(drop=True).copy(),
        {column: extract.headers.get(column, column) for column in load_catalog().response_columns},
        table.header_line,
    )
    warnings: list[Finding] = []
    typed = validate_responses(contract, structures, config, errors, warnings)
    if errors or typed is None:
        raise ValidationError(errors, warnings)
    return ImportResult(
        table.label,
        _canonical(typed),
        len(extract.frame),
        sorted(set(warnings)),
        superseded,
        extract.unmapped_headers,
        extract.tool_columns,
        [*extract.notes, _timestamp_note(extract.timestamp_header)],
    )


def _timestamp_note(header: str | None) -> str:
    if header is None:
        return "pas de date de soumission : en cas de doublon, la dernière ligne est gardée"
    return f"date de soumission lue dans « {header} »"


def _canonical(typed: pd.DataFrame) -> pd.DataFrame:
    """Validated answers written the contract's way: oui/non, codes joined by ';'."""
    out = pd.DataFrame({"structure_id": typed["structure_id"], "annee": typed["annee"].astype(str)})
    for question in load_catalog().questions:
        values = typed[question.colonne]
        if question.kind == "oui_non":
            out[question.colonne] = values.map({True: "oui", False: "non"}).fillna("")
        else:
            out[question.colonne] = values.fillna("").astype(str)
    return out.sort_values(["annee", "structure_id"], kind="stable").reset_index(drop=True)


def import_export(
    source: str,
    path: str | Path,
    mapping: str | Path | None = None,
    structures: pd.DataFrame | None = None,
    config: Config | None = None,
) -> ImportResult:
    """Read an export, lay it out on the contract, keep the latest submissions, validate.

    Raises ValidationError (export or mapping file named, with rows and columns) and
    returns nothing partial: the caller writes the result only when this succeeds.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    config = config or load_config()
    parsed_mapping = load_mapping(mapping) if source == "correspondance" else None
    path = paths.resolve(path)
    label = paths.display_path(path)
    table = read_table(path, label)  # an unreadable file raises `ReadFailure`
    if parsed_mapping is not None:
        extract = _mapped_extract(table, parsed_mapping)
    else:
        extract = _kobo_extract(table)
    return _finish(extract, structures, config)


# --- the Google Forms mapping, from the vocabulary ----------------------------------------


def google_forms_mapping() -> str:
    """The YAML mapping of a Google Forms copy of the questionnaire.

    Generated from the catalog (`parameters/questionnaire.yaml`), like the XLSForm,
    so that a new code or question reaches it too: `make regenerer` rewrites it.
    """

    def quoted(text: str) -> str:
        return yaml.safe_dump(text, allow_unicode=True, width=10_000).removesuffix("\n...\n")

    lines = [
        "# Correspondance : export Google Forms du questionnaire avs-eval -> fichier de réponses.",
        "# Fichier généré par « make regenerer » à partir de parameters/questionnaire.yaml.",
        "# Pour un autre export (LimeSurvey, tableur d'un partenaire), copiez-le et adaptez :",
        "#   colonnes : en-tête de l'export (le texte de la question) -> colonne du contrat ;",
        "#   valeurs  : par colonne, libellé de réponse -> code du contrat ;",
        "#   les codes du contrat et ses libellés sont toujours acceptés, même non listés.",
        "# Usage : avs-eval importer --source correspondance --fichier export.csv \\",
        "#           --correspondance parameters/correspondances/google_forms.yaml "
        "--sortie reponses.csv",
        "",
        "description: Export Google Forms (Réponses > Télécharger au format CSV, ou Google Sheets)",
        "# Entre les réponses d'une question à choix multiples (cases à cocher).",
        'separateur: ", "',
        "# En-têtes de la date de soumission : la plus récente est gardée en cas de doublon.",
        "horodatage:",
        "  - Horodateur",
        "  - Timestamp",
        "# En-têtes présents dans l'export mais sans objet pour l'évaluation.",
        "ignorer:",
        "  - Adresse e-mail",
        "  - Email Address",
        "  - Score",
        "colonnes:",
        f"  {quoted(STRUCTURE_LABEL)}: structure_id",
        f"  {quoted(YEAR_LABEL)}: annee",
    ]
    lines += [f"  {quoted(q.intitule)}: {q.colonne}" for q in load_catalog().questions]
    lines.append("valeurs:")
    for question in load_catalog().questions:
        if question.kind == "texte":
            continue
        lines.append(f"  {question.colonne}:")
        if question.kind == "oui_non":
            pairs = [(text, code) for code, text in YES_NO_CHOICES]
        else:
            pairs = [(m.libelle, m.code) for m in question.modalites]
        lines += [f"    {quoted(text)}: {code}" for text, code in pairs]
    return "\n".join(lines) + "\n"


def write_google_forms_mapping(path: Path = GOOGLE_FORMS_MAPPING) -> None:
    from avs_eval.output import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, google_forms_mapping())


if __name__ == "__main__":
    write_google_forms_mapping()
    print(f"écrit : {paths.display_path(GOOGLE_FORMS_MAPPING)}")
