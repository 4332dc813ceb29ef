"""Load the two tables of the data contract and check every rule of it.

Validation is vectorised (pandas string methods, `isin`, `duplicated`), and so is
the recording of what it finds: the rows that break a rule are added to a
`FindingLog` as columns (lines, values, messages), not one object each, so that a
file with a warning on every third row costs little more than a clean one. So the
same code checks 150 structures or 100,000.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from avs_eval import paths
from avs_eval.catalog import RESPONSE_KEYS, Catalog, Question, load_catalog
from avs_eval.checks import (
    Checker,
    distinct_values,
    is_empty,
    missing_columns_findings,
    normalised,
)
from avs_eval.config import Config, load_config
from avs_eval.errors import (
    FIELD_ORDER,
    Finding,
    FindingLog,
    UsageError,
    ValidationError,
    record,
)
from avs_eval.reading import (
    LINE,
    RawTable,
    ReadFailure,
    forget_workbooks,
    is_workbook,
    read_table,
    workbook_sheets,
)
from avs_eval.schema import (
    COLLECTIVITES,
    DEPARTMENT_CODE,
    LIST_SEPARATORS,
    STRUCTURE_OPTIONAL,
    STRUCTURE_REQUIRED,
    STRUCTURE_TYPES,
    normalise,
    sort_key,
)
from avs_eval.sources import DataSource, sha256

STRUCTURES = "structures"
RESPONSES = "reponses"


def code_column(question: str, code: str) -> str:
    """Name of the boolean column telling whether a list answer holds `code`."""
    return f"{question}:{code}"


@dataclass
class Dataset:
    """Validated data: typed tables, the warnings met, and where they came from."""

    structures: pd.DataFrame
    responses: pd.DataFrame
    warnings: Sequence[Finding]  # `Findings` (columns) from `load`, a list from elsewhere
    source: DataSource
    config: Config
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def territories(self) -> list[str]:
        return sorted(self.structures["territoire"].unique(), key=sort_key)

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.responses["annee"].unique())

    def summary(self) -> str:
        """What an evaluator checks first: how many structures, how many answers a year."""
        counts = self.structures["type"].value_counts()
        lines = [
            f"Données valides : {len(self.structures)} structures "
            f"({counts.get('CS', 0)} centres sociaux, {counts.get('EVS', 0)} espaces de vie "
            f"sociale), {len(self.territories)} territoires.",
            "Réponses par année :",
        ]
        answered = self.responses["annee"].value_counts()
        for year in self.years:
            count = len(self.approved_in(year))
            done = int(answered.get(year, 0))
            lines.append(
                f"  - {year} : {done} réponses sur {count} structures agréées "
                f"({done / count:.0%})".replace("%", " %")
            )
        return "\n".join(lines)

    def approved_in(self, year: int) -> pd.DataFrame:
        """The register's structures approved in `year` (`annee_debut <= year <= annee_fin`)."""
        structures = self.structures
        debut = structures["annee_debut"].fillna(year)
        fin = structures["annee_fin"].fillna(year)
        return structures[(debut <= year) & (fin >= year)]

    @cached_property
    def collectivites(self) -> dict[str, str]:
        """Territory -> collectivité: validation made sure each territory has only one."""
        register = self.structures.drop_duplicates("territoire")
        return dict(zip(register["territoire"], register["collectivite"], strict=True))

    def check_territory(self, territoire: str) -> str:
        """The territory as given, or a UsageError that lists the known ones."""
        if territoire not in self.collectivites:
            raise UsageError(unknown_territory_message(territoire, self.territories))
        return territoire

    def check_year(self, annee: int | str | None) -> int:
        """A year with answers (default: the latest), or a UsageError naming those there are."""
        if annee is None:
            return max(self.years)
        year = int(annee)
        if year not in self.years:
            known = ", ".join(str(y) for y in self.years)
            raise UsageError(f"aucune réponse pour l'année {year} (années disponibles : {known})")
        return year

    def collectivite_of(self, territoire: str) -> str:
        return self.collectivites[self.check_territory(territoire)]


def unknown_territory_message(territoire: str, known: list[str]) -> str:
    """The known territories, and the closest one when the name looks mistyped."""
    message = f"territoire inconnu : « {territoire} »."
    close = closest(territoire, known)
    if close:
        message += f" Vouliez-vous dire « {close} » ?"
    return message + " Territoires connus : " + ", ".join(known)


def closest(name: str, known: list[str]) -> str | None:
    """The known name nearest to `name`, ignoring case, accents and punctuation."""
    import difflib
    import unicodedata

    def plain(text: str) -> str:
        text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
        return "".join(c for c in text.lower() if c.isalnum())

    by_plain = {plain(k): k for k in known}
    match = difflib.get_close_matches(plain(name), list(by_plain), n=1, cutoff=0.6)
    return by_plain[match[0]] if match else None


def load(source: DataSource | None = None, config: Config | None = None) -> Dataset:
    """Read and validate both tables; raise ValidationError listing every error found."""
    try:
        return _load(source, config)
    finally:
        forget_workbooks()  # a workbook is parsed once per validation, not kept after


def _load(source: DataSource | None, config: Config | None) -> Dataset:
    source = source or DataSource.sample()
    config = config or load_config()
    catalog = load_catalog()  # checked before any data is read: a broken catalog stops here
    errors = FindingLog()
    warnings = FindingLog()
    tables: dict[str, RawTable | None] = {}
    for role, path, label, strict in _table_specs(source, errors):
        try:
            tables[role] = read_table(path, label, role, strict_sheet=strict)
        except ValidationError as invalid:  # an unreadable file (`ReadFailure`) or bad headers
            errors.extend(invalid.errors)
            tables[role] = None
    structures = None
    if tables.get(STRUCTURES) is not None:
        structures = _validate_structures(tables[STRUCTURES], errors)
    responses = None
    if tables.get(RESPONSES) is not None:
        responses = validate_responses(
            tables[RESPONSES], structures, config, errors, warnings, catalog
        )
    if errors or structures is None or responses is None:
        raise ValidationError(errors, warnings)
    hashes = {paths.display_path(p): sha256(p) for p in source.files}
    # the dataclass's order (its fields in turn), as `sorted(set(warnings))` gave
    return Dataset(structures, responses, warnings.findings(FIELD_ORDER), source, config, hashes)


def load_structures(path: str | Path) -> pd.DataFrame:
    """Read and validate the `structures` register alone (e.g. for the questionnaire)."""
    path = paths.resolve(path)
    label = paths.display_path(path)
    errors = FindingLog()
    try:
        table = read_table(path, label, STRUCTURES)
    finally:
        forget_workbooks()
    structures = _validate_structures(table, errors)
    if errors or structures is None:
        raise ValidationError(errors)
    return structures


def _table_specs(source: DataSource, errors: FindingLog):
    if source.classeur:
        label = paths.display_path(source.classeur)
        if source.classeur.exists() and not source.classeur.is_dir():
            if not is_workbook(source.classeur):
                errors.append(
                    Finding(label, None, None, None, "un classeur Excel (.xlsx) est attendu")
                )
                return []
            try:
                workbook_sheets(source.classeur, label)
            except ReadFailure as failure:
                errors.append(failure.finding)
                return []
        return [
            (STRUCTURES, source.classeur, label, True),
            (RESPONSES, source.classeur, label, True),
        ]
    return [
        (STRUCTURES, source.structures, paths.display_path(source.structures), False),
        (RESPONSES, source.reponses, paths.display_path(source.reponses), False),
    ]


# --- structures --------------------------------------------------------------------


def _validate_structures(table: RawTable, errors: FindingLog) -> pd.DataFrame | None:
    check = Checker(table, errors)
    frame = table.frame
    missing = check.missing_columns(STRUCTURE_REQUIRED)
    if missing:
        errors.extend(
            missing_columns_findings(
                table, missing, STRUCTURE_REQUIRED, load_catalog().response_columns
            )
        )
        return None
    start = len(errors)
    check.required_cells(STRUCTURE_REQUIRED)

    ids = frame["structure_id"]
    duplicated = ids.duplicated(keep="first") & (ids != "")
    first_line = frame.drop_duplicates("structure_id").set_index("structure_id")[LINE]
    check.flag(
        duplicated,
        "structure_id",
        lambda i: f"identifiant en double (déjà utilisé ligne {first_line[ids[i]]})",
    )

    types = normalised(frame["type"]).map(STRUCTURE_TYPES.lookup())
    check.flag(
        types.isna() & (frame["type"] != ""),
        "type",
        "type inconnu : attendu CS ou EVS (ou « centre social », « espace de vie sociale »)",
    )

    codes, distinct = distinct_values(frame["code_insee"])  # a commune's code, many times
    spelled = np.array([re.sub(r"\.0+$", "", str(v)) for v in distinct], dtype=object)
    wrong = np.array(
        [re.fullmatch(DEPARTMENT_CODE + r"[0-9]{3}", v) is None and v != "" for v in spelled],
        dtype=bool,
    )
    insee = pd.Series(spelled[codes], index=frame.index, dtype=object)
    check.flag(
        pd.Series(wrong[codes], index=frame.index),
        "code_insee",
        f"code INSEE attendu sur 5 chiffres commençant par {DEPARTMENT_CODE} "
        "(commune du Rhône ou de la Métropole de Lyon)",
    )

    collectivites = normalised(frame["collectivite"]).map(COLLECTIVITES.lookup())
    known = " ou ".join(f"« {c} »" for c in COLLECTIVITES.values)
    check.flag(
        collectivites.isna() & (frame["collectivite"] != ""),
        "collectivite",
        f"collectivité inconnue : attendu {known}",
    )

    _check_territories(check, collectivites)
    _check_folder_names(check)

    qpv = check.yes_no("qpv") if "qpv" in frame.columns else pd.Series(pd.NA, frame.index)
    debut = (
        check.year("annee_debut", required=False)
        if "annee_debut" in frame.columns
        else pd.Series(pd.NA, frame.index, dtype="Int64")
    )
    fin = (
        check.year("annee_fin", required=False)
        if "annee_fin" in frame.columns
        else pd.Series(pd.NA, frame.index, dtype="Int64")
    )
    inverted = (debut > fin).fillna(False)
    check.flag(
        inverted,
        "annee_debut",
        lambda i: f"année de début après l'année de fin ({fin[i]})",
    )
    if len(errors) > start:
        return None
    extras = [c for c in frame.columns if c not in STRUCTURE_REQUIRED + STRUCTURE_OPTIONAL]
    result = pd.DataFrame(
        {
            "structure_id": ids,
            "nom": frame["nom"],
            "type": types,
            "commune": frame["commune"],
            "code_insee": insee,
            "territoire": frame["territoire"],
            "collectivite": collectivites,
            "qpv": qpv.astype("boolean"),
            "annee_debut": debut,
            "annee_fin": fin,
        }
    )
    for column in extras:
        if column != LINE:
            result[table.headers.get(column, column)] = frame[column]
    result[LINE] = frame[LINE]
    return result.reset_index(drop=True)


def _check_territories(check: Checker, collectivites: pd.Series) -> None:
    """A territory is reported inside one collectivité: it cannot straddle two."""
    frame = check.frame
    pairs = pd.DataFrame({"t": frame["territoire"], "c": collectivites, "line": frame[LINE]})
    pairs = pairs.dropna()
    pairs = pairs[pairs["t"] != ""]
    counts = pairs.groupby("t")["c"].nunique()
    split = counts[counts > 1].index
    if split.empty:
        return
    first = pairs.drop_duplicates("t").set_index("t")
    for territory in split:
        rows = pairs[pairs["t"] == territory]
        main = first.loc[territory]
        odd = rows[rows["c"] != main["c"]]
        for index in odd.index:
            check.sink.append(
                Finding(
                    check.table.label,
                    int(frame.at[index, LINE]),
                    check.header("collectivite"),
                    str(frame.at[index, "collectivite"]),
                    f"le territoire « {territory} » est rattaché à deux collectivités "
                    f"({main['c']} ligne {main['line']}, {odd.at[index, 'c']} ici) : "
                    "un territoire appartient à une seule collectivité",
                )
            )


def _check_folder_names(check: Checker) -> None:
    """A territory's name must give a usable folder: not too long, not a reserved name."""
    names = check.frame["territoire"]
    problems = {
        name: paths.folder_name_problem(paths.slug(name)) for name in names.unique() if name
    }
    if any(problems.values()):
        check.flag(
            names.map(problems).notna(),
            "territoire",
            lambda i: f"territoire « {names[i][:60]} » : {problems[names[i]]}",
        )


# --- reponses ----------------------------------------------------------------------

_SPLIT = re.compile("[" + re.escape(LIST_SEPARATORS) + "]")


def validate_responses(
    table: RawTable,
    structures: pd.DataFrame | None,
    config: Config,
    errors: FindingLog | list[Finding],
    warnings: FindingLog | list[Finding],
    catalog: Catalog | None = None,
) -> pd.DataFrame | None:
    """Check a `reponses` table; append findings; return it typed, or None when invalid.

    Public because imports from survey tools (`importer`) validate their result with
    exactly these rules, on a table whose rows and headers are those of the export.
    Lists receive `Finding` objects; `FindingLog`s receive the findings as columns.
    """
    if isinstance(errors, FindingLog) and isinstance(warnings, FindingLog):
        return _validate_responses(table, structures, config, errors, warnings, catalog)
    error_log, warning_log = FindingLog(), FindingLog()
    try:
        return _validate_responses(table, structures, config, error_log, warning_log, catalog)
    finally:
        errors.extend(error_log.findings())
        warnings.extend(warning_log.findings())


def _validate_responses(
    table: RawTable,
    structures: pd.DataFrame | None,
    config: Config,
    errors: FindingLog,
    warnings: FindingLog,
    catalog: Catalog | None,
) -> pd.DataFrame | None:
    catalog = catalog or load_catalog()
    check = Checker(table, errors)
    frame = table.frame
    missing = check.missing_columns(RESPONSE_KEYS)
    if missing:
        errors.extend(
            missing_columns_findings(table, missing, catalog.response_columns, STRUCTURE_REQUIRED)
        )
        return None
    start = len(errors)
    check.required_cells(("structure_id",))
    years = check.year("annee", required=True)
    outside = years.notna() & ~years.isin(config.annees)
    check.flag(
        outside.fillna(False),
        "annee",
        f"année hors de la période d'évaluation ({config.debut}-{config.fin})",
    )
    in_file = {int(y) for y in years.dropna().unique()}
    for question in catalog.questions:
        if question.colonne in frame.columns:
            continue
        if any(question.asked_in(y) for y in in_file):  # an older file lacks a newer question
            warnings.append(
                Finding(
                    table.label,
                    table.header_line,
                    question.colonne,
                    "(absente)",
                    "question absente du fichier : comptée comme sans réponse",
                )
            )
        frame[question.colonne] = ""
    ids = frame["structure_id"]
    # parsed years: "2024" and "2024.0" are one year
    pairs = pd.DataFrame({"id": ids, "year": years, LINE: frame[LINE]})
    duplicated = pairs.duplicated(["id", "year"], keep="first") & ~is_empty(ids) & years.notna()
    if duplicated.any():
        first = pairs[~pairs.duplicated(["id", "year"], keep="first")]
        first_line = {(i, y): line for i, y, line in first.itertuples(index=False)}
        check.flag(
            duplicated,
            "structure_id",
            lambda i: (
                f"réponse en double pour {years[i]} (déjà ligne {first_line[(ids[i], years[i])]})"
            ),
        )
    if structures is not None:
        _check_membership(check, ids, years, structures)

    typed = pd.DataFrame({"structure_id": ids, "annee": years})
    for question in catalog.questions:
        column = question.colonne
        if question.kind == "oui_non":
            typed[column] = check.yes_no(column)
        elif question.kind == "liste":
            canonical, onehot = _parse_list(check, question)
            typed[column] = canonical
            for code in question.codes:
                typed[code_column(column, code)] = onehot[code]
        else:
            typed[column] = frame[column]
    if len(errors) > start:
        return None
    _consistency_warnings(table, typed, warnings, catalog)
    _schedule_warnings(table, typed, warnings, catalog)
    extras = [c for c in frame.columns if c not in catalog.response_columns and c != LINE]
    for column in extras:
        name = table.headers.get(column, column)
        if name not in typed.columns:  # never over a parsed column such as "question:code"
            typed[name] = frame[column]
    typed[LINE] = frame[LINE]
    typed["annee"] = typed["annee"].astype(int)
    return typed.reset_index(drop=True)


def _check_membership(
    check: Checker, ids: pd.Series, years: pd.Series, structures: pd.DataFrame
) -> None:
    register = structures.set_index("structure_id")
    found = register.index.get_indexer(ids)
    known = pd.Series(found >= 0, index=ids.index)
    check.flag(
        ~known & ~is_empty(ids),
        "structure_id",
        "structure inconnue : absente du fichier des structures",
    )
    rows = known & years.notna()
    if not rows.any():
        return
    positions = found[rows.to_numpy()]
    debut = pd.Series(register["annee_debut"].array[positions], index=ids.index[rows.to_numpy()])
    fin = pd.Series(register["annee_fin"].array[positions], index=debut.index)
    year = years[rows]
    closed = ((debut.notna() & (year < debut)) | (fin.notna() & (year > fin))).fillna(False)
    mask = pd.Series(False, index=ids.index)
    mask[closed[closed].index] = True

    def message(i) -> str:
        start = "…" if pd.isna(debut[i]) else str(debut[i])
        end = "…" if pd.isna(fin[i]) else str(fin[i])
        return f"la structure n'est pas agréée en {year[i]} (agrément {start}-{end})"

    check.flag(mask, "structure_id", message)


def _parse_list(check: Checker, question: Question) -> tuple[pd.Series, pd.DataFrame]:
    """Split a list cell into codes; return canonical text and one boolean column per code.

    Each distinct cell is split once; its codes, canonical text and unknown tokens are
    spread to the rows that hold it.
    """
    column = question.colonne
    codes = question.codes
    cells = check.frame[column]
    rows_code, distinct = distinct_values(cells)
    position = {code: i for i, code in enumerate(codes)}
    matrix = np.zeros((len(distinct), len(codes)), dtype=bool)
    unknown: dict[int, list[str]] = {}
    spelling: dict[str, str] = {}  # a token -> normalised: few tokens among many cells
    for number, cell in enumerate(distinct):
        if pd.isna(cell):  # no answer, as an empty cell
            continue
        for token in _SPLIT.split(str(cell)):
            if token not in spelling:
                spelling[token] = normalise(token)
            token = spelling[token]
            if not token:
                continue
            if token in position:
                matrix[number, position[token]] = True
            else:
                unknown.setdefault(number, []).append(token)
    if unknown:
        accepted = ", ".join(codes)
        lines = check.frame[LINE].to_numpy()
        for number, tokens in unknown.items():  # the rows of a distinct cell, as columns
            rows = rows_code == number
            for token in tokens:
                record(
                    check.sink,
                    check.table.label,
                    lines[rows],
                    check.header(column),
                    str(distinct[number]),
                    f"code inconnu « {token} » (codes acceptés : {accepted})",
                )
    code_array = np.array(codes, dtype=object)
    canonical = np.array([";".join(code_array[row]) for row in matrix], dtype=object)
    onehot = pd.DataFrame(matrix[rows_code], index=cells.index, columns=list(codes))
    return pd.Series(canonical[rows_code], index=cells.index, dtype=object), onehot


def _consistency_warnings(
    table: RawTable, typed: pd.DataFrame, warnings: FindingLog, catalog: Catalog
) -> None:
    """Answers that are not errors but deserve a look (counted as written)."""
    for question in catalog.questions:
        if not question.condition:
            continue
        answered = _answered(typed[question.colonne])
        if question.condition_code:
            condition_met = typed[code_column(question.condition, question.condition_code)]
            reason = f"« {question.condition_code} » n'est pas coché dans {question.condition}"
        else:
            condition_met = typed[question.condition].fillna(True).astype(bool)
            reason = f"{question.condition} vaut non"
        _warn_rows(
            table,
            warnings,
            answered & ~condition_met,
            question.colonne,
            f"réponse renseignée alors que {reason} : elle est comptée telle quelle",
        )
    for question in catalog.questions:
        for modalite in question.modalites:
            if not modalite.exclusive:
                continue
            flag = typed[code_column(question.colonne, modalite.code)]
            others = [
                code_column(question.colonne, c) for c in question.codes if c != modalite.code
            ]
            mixed = flag & typed[others].any(axis=1)
            _warn_rows(
                table,
                warnings,
                mixed,
                question.colonne,
                f"« {modalite.code} » coché avec d'autres codes : tous sont comptés tels quels",
            )


def _schedule_warnings(
    table: RawTable, typed: pd.DataFrame, warnings: FindingLog, catalog: Catalog
) -> None:
    """An answer to a question or a code in a year it was not asked: not counted that year.

    The indicator table has no row for such a year (a code added in 2025 is never a
    0 % in 2023), so the answer is set aside, and said so.
    """
    years = typed["annee"]
    in_file = [int(y) for y in years.unique()]

    def asked(item) -> pd.Series:
        """Rows of a year where `item` (question or code) was asked: a test per year."""
        return years.isin([y for y in in_file if item.asked_in(y)])

    for question in catalog.questions:
        answered = _answered(typed[question.colonne])
        off = answered & ~asked(question)
        _warn_rows(
            table,
            warnings,
            off,
            question.colonne,
            per_year(
                years,
                off,
                lambda y, q=question: (
                    f"question non posée en {y} ({_schedule(q, 'posée')}) : réponse non comptée"
                ),
            ),
        )
        for modalite in question.modalites:
            if modalite.depuis is None and modalite.jusqu_a is None:
                continue
            flag = typed[code_column(question.colonne, modalite.code)]
            off = flag & ~asked(modalite) & ~off
            _warn_rows(
                table,
                warnings,
                off,
                question.colonne,
                per_year(
                    years,
                    off,
                    lambda y, m=modalite: (
                        f"code « {m.code} » non proposé en {y} "
                        f"({_schedule(m, 'proposé')}) : non compté"
                    ),
                ),
            )


def _answered(column: pd.Series) -> pd.Series:
    """Rows with an answer: a yes/no given, a list or a text not empty (these hold text)."""
    if isinstance(column.dtype, pd.BooleanDtype):
        return column.notna()
    return ~is_empty(column)


def _warn_rows(
    table: RawTable, warnings: FindingLog, rows: pd.Series, column: str, message
) -> None:
    """One warning per row of the mask `rows`, naming its line, the user's header and the
    cell as written; `message` is one text, or one per flagged row."""
    Checker(table, warnings).flag(rows, column, message)


def per_year(years: pd.Series, rows: pd.Series, message) -> np.ndarray:
    """`message(year)` for each row of the mask `rows`, written once per distinct year."""
    flagged = years[rows.to_numpy(dtype=bool)]
    texts = {year: message(year) for year in flagged.unique()}
    return flagged.map(texts).to_numpy(dtype=object)


def _schedule(item, verb: str) -> str:
    """When a question or a code was asked, e.g. « posée à partir de 2025 »."""
    if item.jusqu_a is None:
        return f"{verb} à partir de {item.depuis}"
    if item.depuis is None:
        return f"{verb} jusqu'en {item.jusqu_a}"
    return f"{verb} de {item.depuis} à {item.jusqu_a}"
