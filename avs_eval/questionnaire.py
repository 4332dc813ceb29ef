"""The questionnaire of the data contract, as an XLSForm workbook or a Markdown document.

Question names are the contract's columns and choice names its codes, so answers
collected with the form map onto the `reponses` table column for column.
"""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from avs_eval.catalog import Question, load_catalog
from avs_eval.config import Config
from avs_eval.schema import sort_key

YES_NO_LIST = "oui_non"
YES_NO_CHOICES: tuple[tuple[str, str], ...] = (("oui", "Oui"), ("non", "Non"))
STRUCTURES_LIST = "structures"
SURVEY_COLUMNS = ("type", "name", "label", "relevant", "required", "constraint", "hint")
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language")
STRUCTURE_LABEL = "Votre structure"
YEAR_LABEL = "Année de l'enquête"


def form_title(config: Config) -> str:
    return f"Enquête annuelle de l'animation de la vie sociale — fiche action {config.code_fiche}"


def relevant(question: Question) -> str:
    """XLSForm condition under which a follow-up question is asked ('' when always)."""
    if not question.condition:
        return ""
    if question.condition_code:
        return f"selected(${{{question.condition}}}, '{question.condition_code}')"
    return f"${{{question.condition}}} = 'oui'"


def _exclusive_rule(question: Question) -> tuple[str, str]:
    """Constraint and hint forbidding an exclusive code (e.g. « aucun ») beside another."""
    exclusive = [m for m in question.modalites if m.exclusive]
    if not exclusive:
        return "", ""
    constraint = " and ".join(
        f"not(selected(., '{m.code}') and count-selected(.) > 1)" for m in exclusive
    )
    hint = " ; ".join(f"« {m.libelle} » ne se coche pas avec un autre choix" for m in exclusive)
    return constraint, hint


def _structure_choices(structures: pd.DataFrame | None) -> list[tuple[str, str]]:
    if structures is None:
        return []
    rows = sorted(
        structures[["structure_id", "nom", "commune"]].itertuples(index=False),
        key=lambda r: (sort_key(r.nom), sort_key(r.commune)),
    )
    return [(str(r.structure_id), f"{r.nom} — {r.commune}") for r in rows]


def xlsform(config: Config, structures: pd.DataFrame | None = None) -> bytes:
    """The XLSForm workbook (sheets survey, choices, settings)."""
    choices: list[tuple[str, str, str]] = []
    survey: list[tuple[str, ...]] = []
    registered = _structure_choices(structures)
    if registered:
        survey.append(
            (f"select_one {STRUCTURES_LIST}", "structure_id", STRUCTURE_LABEL, "", "yes", "", "")
        )
        choices += [(STRUCTURES_LIST, code, label) for code, label in registered]
    else:
        survey.append(
            ("text", "structure_id", STRUCTURE_LABEL, "", "yes", "", "Identifiant du registre")
        )
    survey.append(
        (
            "integer",
            "annee",
            YEAR_LABEL,
            "",
            "yes",
            f". >= {config.debut} and . <= {config.fin}",
            f"Entre {config.debut} et {config.fin}",
        )
    )
    choices += [(YES_NO_LIST, code, label) for code, label in YES_NO_CHOICES]
    for question in load_catalog().survey():
        constraint, hint = _exclusive_rule(question)
        required = "" if question.kind == "texte" else "yes"
        if question.kind == "oui_non":
            kind = f"select_one {YES_NO_LIST}"
        elif question.kind == "liste":
            kind = f"select_multiple {question.colonne}"
            choices += [(question.colonne, m.code, m.libelle) for m in question.modalites]
        else:
            kind = "text"
        survey.append(
            (
                kind,
                question.colonne,
                question.intitule,
                relevant(question),
                required,
                constraint,
                hint,
            )
        )
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    _fill(sheet, SURVEY_COLUMNS, survey)
    _fill(workbook.create_sheet("choices"), CHOICES_COLUMNS, choices)
    settings = (
        form_title(config),
        "avs_" + config.code_fiche.lower().replace(" ", "_").replace(".", "_"),
        str(config.fin),
        "French (fr)",
    )
    _fill(workbook.create_sheet("settings"), SETTINGS_COLUMNS, [settings])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(sheet, headers: tuple[str, ...], rows) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([*row, *[""] * (len(headers) - len(row))])
    for column in ("A", "B", "C"):
        sheet.column_dimensions[column].width = 30 if column != "C" else 70
    sheet.freeze_panes = "A2"


_KIND_TEXT = {
    "oui_non": "une réponse : oui / non",
    "liste": "plusieurs réponses possibles",
    "texte": "texte libre",
}


def _condition_text(question: Question, numbers: dict[str, int]) -> str:
    parent = load_catalog().by_column[question.condition]
    where = f"question {numbers[parent.colonne]}"
    if question.condition_code:
        label = parent.label_of(question.condition_code)
        return f"(si « {label} » est coché à la {where})"
    return f"(si « oui » à la {where})"


def markdown(config: Config, structures: pd.DataFrame | None = None) -> str:
    """The same questionnaire as a readable French document."""
    lines = [f"# {form_title(config)}", ""]
    if config.intitule_fiche:
        lines += [f"*{config.intitule_fiche}*", ""]
    lines += [
        "Une réponse par structure et par année. Les codes entre parenthèses sont ceux à "
        "saisir dans le fichier de réponses (colonne indiquée sous chaque question).",
        "",
        f"## {STRUCTURE_LABEL}",
        "",
        "Colonne `structure_id`.",
        "",
    ]
    registered = _structure_choices(structures)
    lines += [f"- {label} (`{code}`)" for code, label in registered] or [
        "Identifiant de la structure dans le registre des structures."
    ]
    lines += [
        "",
        f"## {YEAR_LABEL}",
        "",
        f"Colonne `annee` : une année entre {config.debut} et {config.fin}.",
        "",
    ]
    numbers = {q.colonne: n for n, q in enumerate(load_catalog().survey(), start=1)}
    for question in load_catalog().survey():
        lines += [f"## {numbers[question.colonne]}. {question.intitule}", ""]
        if question.condition:
            lines += [_condition_text(question, numbers), ""]
        lines += [
            f"Colonne `{question.colonne}` — {_KIND_TEXT[question.kind]}.",
            "",
        ]
        if question.kind == "oui_non":
            lines += [f"- {label} (`{code}`)" for code, label in YES_NO_CHOICES]
        for modalite in question.modalites:
            note = " — ne se coche pas avec un autre choix" if modalite.exclusive else ""
            lines.append(f"- {modalite.libelle} (`{modalite.code}`){note}")
        if question.kind != "texte":
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
