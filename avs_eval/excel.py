"""Excel workbooks: the formatted indicator table and the data-entry template.

Both are built in memory and written atomically. Every header, code and label
comes from the catalog, so a new question or code appears here by itself.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.formatting import (
    EXCEL_COUNT,
    EXCEL_P_VALUE,
    EXCEL_PERCENT,
    EXCEL_POINTS,
    NBSP,
    NNBSP,
    p_value_class,
    points_number,
)
from avs_eval.output import write_atomic
from avs_eval.schema import (
    ALL_PERIMETER,
    COLLECTIVITES,
    LEVEL_LABELS,
    LEVELS,
    LIST_SEPARATORS,
    STRUCTURE_OPTIONAL,
    STRUCTURE_REQUIRED,
    STRUCTURE_TYPES,
)

SECRET_MARK = "s"
PERCENT_FORMAT = EXCEL_PERCENT
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color="1F4E78")
TEMPLATE_ROWS = 2000  # rows covered by the drop-down lists of the template
YES_NO_CHOICES = ("oui", "non")
WORKBOOK_TITLE = "Table des indicateurs"
NOTICE_SHEET = "À lire"
EVOLUTIONS_SHEET = "Évolutions"

# Sheet of each level of the indicator table.
LEVEL_SHEETS: dict[str, str] = {
    "territoire": LEVEL_LABELS["territoire"] + "s",
    "collectivite": LEVEL_LABELS["collectivite"] + "s",
    "departement": ALL_PERIMETER,
    "qpv": LEVEL_LABELS["qpv"],
}
# (header, width) of the indicator sheets, in the order of the contract's columns.
INDICATOR_HEADERS: tuple[tuple[str, int], ...] = (
    ("Année", 8),
    ("Niveau", 14),
    ("Périmètre", 26),
    ("Indicateur", 48),
    ("Modalité", 38),
    ("Numérateur", 12),
    ("Dénominateur", 13),
    ("Part", 8),
    ("IC bas", 8),
    ("IC haut", 8),
)
SHARE_COLUMNS = ("part", "ic_bas", "ic_haut")


def header_row(sheet: Worksheet, headers: list[str], widths: list[int]) -> None:
    """A sheet's first row as every workbook of the project has it: bold on a tint,
    wrapped, the columns' widths set, frozen while the rows scroll."""
    sheet.append(headers)
    for position, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = "A2"


def _text_sheet(sheet: Worksheet, title: str, paragraphs: list[str]) -> None:
    sheet.column_dimensions["A"].width = 110
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    for paragraph in paragraphs:
        sheet.append([paragraph])
        sheet.cell(row=sheet.max_row, column=1).alignment = Alignment(wrap_text=True)


def _print_setup(sheet: Worksheet, title: str, headed: bool = True) -> None:
    """Printed as a committee file: landscape A4, one page wide, the header row on every
    page, the title in the page header and « page n sur N » at the foot.

    Without it Excel prints the wide sheets in portrait over two pages side by side,
    with the column names on the first page only.
    """
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if headed:
        sheet.print_title_rows = "1:1"
    sheet.oddHeader.center.text = title.replace("&", "&&")  # "&" starts a header code
    sheet.oddFooter.center.text = "Page &P sur &N"


def _to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the indicator table ------------------------------------------------------------


def _share(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def indicators_workbook(
    table: pd.DataFrame,
    min_effectif: int,
    evolutions: pd.DataFrame | None = None,
    published: bool = False,
) -> bytes:
    """The indicator table as a workbook's bytes (`indicators_book`, saved)."""
    return _to_bytes(indicators_book(table, min_effectif, evolutions, published))


def indicators_book(
    table: pd.DataFrame,
    min_effectif: int,
    evolutions: pd.DataFrame | None = None,
    published: bool = False,
) -> Workbook:
    """The indicator table as a workbook: one sheet per level, French headers, percents.

    `published`: the table is the partners' one (`secrecy.published`): a masked row's
    counts are « s » as well, and p-values are given in classes. `evolutions` adds a
    sheet of changes since the baseline. Every number is shown with the formats of
    `formatting`, so a cell reads as the report does (« 63 % », « +17 pts »).
    """
    workbook = Workbook()
    notice = workbook.active
    notice.title = NOTICE_SHEET
    headers = [h for h, _ in INDICATOR_HEADERS]
    widths = [w for _, w in INDICATOR_HEADERS]
    first_share = headers.index("Part") + 1
    first_count = headers.index("Numérateur") + 1
    written: list[str] = []
    response_rate_at = None
    for level in LEVELS:
        rows = table[table["niveau"] == level]
        if rows.empty:
            continue
        sheet = workbook.create_sheet(LEVEL_SHEETS[level])
        written.append(sheet.title)
        if response_rate_at is None:
            response_rate_at = _response_rate_position(rows)
        header_row(sheet, headers, widths)
        # the row number is counted here: openpyxl's `max_row` scans every cell, and
        # asking it once per row made the department's workbook quadratic (7 min for
        # 100 territories)
        for number, row in enumerate(rows.itertuples(index=False), start=2):
            shares = [_share(getattr(row, c)) for c in SHARE_COLUMNS]
            if row.secret:
                shares = [SECRET_MARK] * len(SHARE_COLUMNS)
            sheet.append(
                [
                    int(row.annee),
                    LEVEL_LABELS[level],
                    row.perimetre,
                    load_catalog().label(row.indicateur),
                    load_catalog().label(row.indicateur, row.modalite) if row.modalite else "",
                    *_counts(row),
                    *shares,
                ]
            )
            for offset in range(2):
                _format(sheet.cell(row=number, column=first_count + offset), EXCEL_COUNT)
            for offset in range(len(SHARE_COLUMNS)):
                _format(sheet.cell(row=number, column=first_share + offset), PERCENT_FORMAT)
        if sheet.max_row > 1:
            sheet.auto_filter.ref = sheet.dimensions
        _print_setup(sheet, f"{WORKBOOK_TITLE} — {sheet.title}")
    if evolutions is not None:
        sheet = workbook.create_sheet(EVOLUTIONS_SHEET)
        _evolutions_sheet(sheet, evolutions, published)
        written.append(sheet.title)
        _print_setup(sheet, f"{WORKBOOK_TITLE} — {sheet.title}")
    _text_sheet(
        notice,
        f"{WORKBOOK_TITLE} : mode d'emploi",
        _notice(min_effectif, published, written, response_rate_at),
    )
    _print_setup(notice, WORKBOOK_TITLE, headed=False)
    return workbook


def _format(cell, number_format: str) -> None:
    """A number gets the format; a mark (« s ») is text, right-aligned like the numbers."""
    if isinstance(cell.value, float | int) and not isinstance(cell.value, bool):
        cell.number_format = number_format
    elif cell.value is not None:
        cell.alignment = Alignment(horizontal="right")


def _response_rate_position(rows: pd.DataFrame) -> str | None:
    """Where the response rate stands among one perimeter-year's rows: what the notice says."""
    first = rows.iloc[0]
    block = rows[(rows["annee"] == first["annee"]) & (rows["perimetre"] == first["perimetre"])]
    names = list(block["indicateur"])
    if RESPONSE_RATE not in names:
        return None
    if names[0] == RESPONSE_RATE:
        return "first"
    if names[-1] == RESPONSE_RATE:
        return "last"
    return "among"


def _counts(row) -> list:
    if pd.isna(row.numerateur) or pd.isna(row.denominateur):
        return [SECRET_MARK, SECRET_MARK]  # published table: the counts of a masked row
    return [int(row.numerateur), int(row.denominateur)]


EVOLUTION_HEADERS: tuple[tuple[str, str, int], ...] = (
    ("annee", "Année", 8),
    ("annee_reference", "Année de référence", 11),
    ("niveau", "Niveau", 14),
    ("perimetre", "Périmètre", 26),
    ("indicateur", "Indicateur", 44),
    ("part_reference", "Part à l'année de référence", 12),
    ("part", "Part", 8),
    ("ecart", "Écart (points)", 10),
    ("ecart_apparie", "Écart sur les mêmes structures (points)", 14),
    ("p_valeur", "p-valeur (McNemar)", 11),
    ("significatif", "Évolution nette", 10),
)
P_VALUE_CLASS_HEADER = "p-valeur (McNemar), par classe"
SHARES = ("part_reference", "part")
POINTS = ("ecart", "ecart_apparie")


def _evolutions_sheet(sheet: Worksheet, evolutions: pd.DataFrame, published: bool) -> None:
    """Changes since the baseline: shares in %, changes in points, « s » for a secret row.

    A change is stored in whole points, rounded as the reports round it: a format can
    only show « pts » on a cell that holds points. The published workbook gives the
    p-value in classes (« < 0,05 »): its exact value and the change decode the paired
    counts (issue 24); the internal one keeps the exact p-value, shown as the report does.
    """
    headers = [
        P_VALUE_CLASS_HEADER if published and column == "p_valeur" else header
        for column, header, _ in EVOLUTION_HEADERS
    ]
    header_row(sheet, headers, [w for _, _, w in EVOLUTION_HEADERS])
    catalog = load_catalog()
    formats = {
        **dict.fromkeys(SHARES, PERCENT_FORMAT),
        **dict.fromkeys(POINTS, EXCEL_POINTS),
        "p_valeur": EXCEL_P_VALUE,
    }
    for number, row in enumerate(evolutions.to_dict("records"), start=2):
        values = []
        for column, _, _ in EVOLUTION_HEADERS:
            value = row[column]
            if column == "niveau":
                value = LEVEL_LABELS.get(value, value)
            elif column == "indicateur":
                value = catalog.label(value)
            elif column in formats or column == "significatif":
                value = _figure(column, value, bool(row["secret"]), published)
            values.append(value)
        sheet.append(values)
        for position, (column, _, _) in enumerate(EVOLUTION_HEADERS, start=1):
            if column in formats:
                _format(sheet.cell(row=number, column=position), formats[column])
    if sheet.max_row > 1:
        sheet.auto_filter.ref = sheet.dimensions


def _figure(column: str, value, secret: bool, published: bool):
    """One figure of the evolutions sheet as its cell holds it."""
    if secret:
        return SECRET_MARK
    if isinstance(value, str):  # already in its published form (a p-value class)
        return value
    if value is None or pd.isna(value):
        return None
    if column == "significatif":
        return "oui" if bool(value) else "non"
    if column in POINTS:
        return points_number(float(value))
    if column == "p_valeur" and published:
        # Excel's fonts may lack the narrow space: the ordinary no-break one, as its formats
        return p_value_class(float(value)).replace(NNBSP, NBSP)
    return float(value)


def _notice(
    min_effectif: int,
    published: bool = False,
    sheets: list[str] | None = None,
    response_rate: str | None = None,
) -> list[str]:
    """The « À lire » sheet: it describes the sheets written, in their order, and no other."""
    sheets = list(LEVEL_SHEETS.values()) if sheets is None else sheets
    levels = [name for name in sheets if name in LEVEL_SHEETS.values()]
    place = {
        "first": " ; le taux de réponse vient en premier",
        "last": " ; le taux de réponse vient en dernier",
        "among": "",
        None: "",
    }[response_rate]
    lines = [
        _sheet_list(levels),
        "Année : année de l'enquête.",
        "Niveau, Périmètre : " + _perimeters(levels) + ".",
        f"Indicateur : la question ou l'indicateur mesuré{place}.",
        "Modalité : pour une question à choix multiples, le choix compté ; vide pour une "
        "question oui/non (la part est alors celle des « oui »).",
        "Numérateur : nombre de structures concernées (réponses « oui », ou choix coché).",
        "Dénominateur : nombre de structures ayant répondu à la question (pour le taux de "
        "réponse : structures agréées l'année considérée).",
        "Part : Numérateur / Dénominateur, en pourcentage arrondi à l'unité (une demie est "
        "arrondie à l'unité supérieure, comme dans les rapports).",
        "IC bas, IC haut : bornes de l'intervalle de confiance à 95 % (méthode de Wilson). "
        "Le taux de réponse n'en a pas : il compte toutes les structures agréées.",
        f"Secret statistique : une part calculée sur moins de {min_effectif} structures n'est "
        f"pas diffusée ; « {SECRET_MARK} » remplace alors la part et son intervalle"
        + (
            ", ainsi que ses effectifs (de même pour une part qui permettrait d'en retrouver "
            "une autre par différence)."
            if published
            else ". Les effectifs restent affichés pour le suivi interne : ne les diffusez pas "
            "tels quels."
        ),
        "Une case vide dans Part signifie qu'aucune structure n'a répondu (dénominateur nul).",
    ]
    if EVOLUTIONS_SHEET in sheets:
        lines += _evolutions_notice(published)
    return lines


def _sheet_list(levels: list[str]) -> str:
    if not levels:
        return "Aucune feuille d'indicateurs : la table est vide."
    quoted = [f"« {name} »" for name in levels]
    if len(quoted) == 1:
        return f"Une feuille d'indicateurs : {quoted[0]}."
    return f"Une feuille par niveau géographique : {', '.join(quoted[:-1])} et {quoted[-1]}."


def _perimeters(levels: list[str]) -> str:
    described = {
        LEVEL_SHEETS["territoire"]: "le territoire",
        LEVEL_SHEETS["collectivite"]: "la collectivité",
        LEVEL_SHEETS["departement"]: "l'ensemble du département",
        LEVEL_SHEETS["qpv"]: "les structures en quartier prioritaire ou hors de ceux-ci",
    }
    parts = [described[name] for name in levels]
    if len(parts) <= 1:
        return "".join(parts) or "le périmètre de la ligne"
    return ", ".join(parts[:-1]) + " ou " + parts[-1]


def _evolutions_notice(published: bool) -> list[str]:
    return [
        f"Feuille « {EVOLUTIONS_SHEET} » : l'évolution de chaque part depuis l'année de "
        "référence de la question.",
        "Écart (points) : Part moins Part à l'année de référence, en points de pourcentage "
        "arrondis à l'unité (+17 pts).",
        "Écart sur les mêmes structures : le même écart, calculé seulement sur les "
        "structures qui ont répondu les deux années.",
        (
            "p-valeur (McNemar), par classe : « < 0,001 », « < 0,01 », « < 0,05 » ou « ≥ 0,05 »"
            if published
            else "p-valeur (McNemar) : probabilité d'observer un tel écart sur les mêmes "
            "structures si rien n'avait changé (« < 0,001 » en dessous d'un millième)"
        )
        + ".",
        "Évolution nette : « oui » quand la p-valeur est inférieure à 0,05 (seuil de 5 %).",
    ]


def write_indicators(
    path: Path,
    table: pd.DataFrame,
    min_effectif: int,
    evolutions: pd.DataFrame | None = None,
    published: bool = False,
) -> None:
    write_atomic(path, indicators_workbook(table, min_effectif, evolutions, published))


# --- the data-entry template ----------------------------------------------------------


def _list_validation(sheet: Worksheet, column: int, choices: tuple[str, ...], what: str):
    formula = '"' + ",".join(choices) + '"'
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.error = f"Valeur attendue pour {what} : " + ", ".join(choices)
    validation.errorTitle = "Valeur non prévue"
    validation.prompt = "Choisissez dans la liste : " + ", ".join(choices)
    validation.promptTitle = what
    letter = get_column_letter(column)
    validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.add_data_validation(validation)


def template_workbook() -> bytes:
    """The data contract as an Excel workbook to fill: read back by `--classeur` as is."""
    workbook = Workbook()
    instructions = workbook.active
    instructions.title = "instructions"
    _text_sheet(instructions, "Saisie des données de l'enquête : mode d'emploi", _instructions())

    structures = workbook.create_sheet("structures")
    columns = list(STRUCTURE_REQUIRED + STRUCTURE_OPTIONAL)
    header_row(structures, columns, [max(14, len(c) + 4) for c in columns])
    _list_validation(
        structures, columns.index("type") + 1, tuple(STRUCTURE_TYPES.values), "le type"
    )
    _list_validation(
        structures,
        columns.index("collectivite") + 1,
        tuple(COLLECTIVITES.values),
        "la collectivité",
    )
    _list_validation(structures, columns.index("qpv") + 1, YES_NO_CHOICES, "qpv")

    reponses = workbook.create_sheet("reponses")
    columns = list(load_catalog().response_columns)
    header_row(reponses, columns, [max(14, len(c) + 4) for c in columns])
    for column in load_catalog().yes_no_columns:
        _list_validation(reponses, columns.index(column) + 1, YES_NO_CHOICES, column)

    listes = workbook.create_sheet("listes")
    header_row(listes, ["question", "code", "libellé"], [28, 32, 48])
    for question in load_catalog().questions:
        if question.kind == "oui_non":
            for code in YES_NO_CHOICES:
                listes.append([question.colonne, code, code])
        for modalite in question.modalites:
            listes.append([question.colonne, modalite.code, modalite.libelle])
    for vocabulary in (STRUCTURE_TYPES, COLLECTIVITES):
        for code in vocabulary.values:
            listes.append([vocabulary.name, code, vocabulary.labels.get(code, code)])
    return _to_bytes(workbook)


def _instructions() -> list[str]:
    lists = ", ".join(q.colonne for q in load_catalog().questions if q.kind == "liste")
    separators = " ".join(f"« {s} »" for s in LIST_SEPARATORS)
    return [
        "Ce classeur se lit tel quel avec : avs-eval valider --classeur FICHIER.xlsx "
        "(puis indicateurs, rapports). Ne renommez ni les feuilles « structures » et "
        "« reponses », ni leurs en-têtes (ligne 1). Les autres feuilles sont ignorées.",
        "Feuille « structures » : une ligne par structure agréée (centre social ou espace de vie "
        "sociale). structure_id est l'identifiant unique de la structure, repris dans "
        "« reponses ». type : CS ou EVS ; collectivite : Métropole de Lyon ou Rhône "
        "(listes déroulantes). code_insee : code commune à 5 chiffres. qpv, annee_debut, "
        "annee_fin sont facultatifs (annee_debut / annee_fin : années d'agrément).",
        "Feuille « reponses » : une ligne par structure et par année d'enquête (structure_id, "
        "annee à 4 chiffres).",
        "Questions oui/non : choisissez oui ou non dans la liste déroulante ; une case vide "
        "signifie « sans réponse ».",
        f"Questions à choix multiples ({lists}) : saisissez les codes de la feuille « listes », "
        f"séparés par un point-virgule, par exemple : site_internet;reseaux_sociaux. "
        f"Séparateurs acceptés : {separators}.",
        "Questions de suivi : ne les remplissez que si la question dont elles dépendent appelle "
        "une précision (par exemple permanence_partenaires seulement si permanence_partenaire "
        "vaut oui ; communication_autre seulement si « autre » figure dans "
        "communication_canaux). Sinon, laissez la case vide.",
        "Saisissez des valeurs, pas de formules, et ne fusionnez pas de cellules.",
    ]


def write_template(path: Path) -> None:
    write_atomic(path, template_workbook())
