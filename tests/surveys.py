"""Builders of survey-tool exports for the import tests: what KoboToolbox and Google Forms
would give for the sample's answers, written from the generated questionnaire itself."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta

import pandas as pd
from openpyxl import Workbook

KOBO_HEAD = ("start", "end")
KOBO_TAIL = (
    "__version__",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "_tags",
    "_index",
)


def read_xlsform(content: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    survey = pd.read_excel(io.BytesIO(content), sheet_name="survey", dtype=str).fillna("")
    choices = pd.read_excel(io.BytesIO(content), sheet_name="choices", dtype=str).fillna("")
    return survey, choices


def kobo_export(
    xlsform: bytes,
    answers: pd.DataFrame,
    *,
    groups: bool,
    split: bool,
    combined: bool = True,
    start: datetime = datetime(2025, 3, 1, 9, 0),
) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a KoboToolbox export ("XML values and headers") of `answers`.

    The form's questions are read from the XLSForm: an answer column is written for
    each survey row, under a group prefix when `groups`, and select_multiple answers
    as space-separated codes and/or split 0/1 columns.
    """
    survey, choices = read_xlsform(xlsform)
    headers = list(KOBO_HEAD)
    cells = []  # (header, function of an answer row)
    for row in survey.itertuples(index=False):
        kind, _, list_name = row.type.partition(" ")
        name = row.name
        group = ("identification/" if name in ("structure_id", "annee") else "projet/") * groups
        if kind == "select_multiple":
            if combined:
                cells.append(
                    (f"{group}{name}", lambda a, n=name: " ".join(a[n].split(";")) if a[n] else "")
                )
            if split:
                for code in choices.loc[choices.list_name == list_name, "name"]:
                    cells.append(
                        (
                            f"{group}{name}/{code}",
                            lambda a, n=name, c=code: (
                                ""
                                if not a[n] and not a["_relevant_" + n]
                                else str(int(c in a[n].split(";")))
                            ),
                        )
                    )
        else:
            cells.append((f"{group}{name}", lambda a, n=name: a[n]))
    headers += [h for h, _ in cells] + list(KOBO_TAIL)
    rows = []
    for number, answer in enumerate(answers.to_dict("records")):
        for name in choices.list_name.unique():
            answer.setdefault("_relevant_" + name, bool(answer.get(name)))
        when = start + timedelta(minutes=37 * number)
        submitted = answer.get("_submission_time")
        if not isinstance(submitted, datetime) or pd.isna(submitted):
            submitted = when + timedelta(minutes=12)
        rows.append(
            [
                when.isoformat(timespec="milliseconds") + "+01:00",
                (when + timedelta(minutes=11)).isoformat(timespec="milliseconds") + "+01:00",
                *[function(answer) for _, function in cells],
                "vT8xKq3pWn",
                str(100_000 + number),
                str(uuid.UUID(int=number + 1)),
                submitted.strftime("%Y-%m-%dT%H:%M:%S"),
                "",
                "",
                "submitted_via_web",
                "",
                "",
                str(number + 1),
            ]
        )
    return headers, rows


def write_csv(headers: list[str], rows: list[list[str]], separator: str = ";") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_xlsx(headers: list[str], rows: list[list[str]], sheet: str = "avs_pa_3_1_2") -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(headers)
    for row in rows:
        worksheet.append([int(v) if v.isdigit() and len(v) < 6 else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
