"""The follow-up of the actions as page blocks: one table per action, for any report.

`suivi` reads and checks the evaluator's files, `suivi_frise` draws the timeline; here
each action becomes the table a reader scans: its state (with « échéance atteinte »
when its last year is reached without it being done), what was done, its milestones
(« en retard » when planned, passed and not done), its partners, difficulties and next
steps, and the headline indicators that follow it with whether their targets are
reached. A yearly report shows the year (`action_block(…, report_year)`); the bilan
shows the years of its period (`since=`), states and achievements year by year.

Every share comes from the masked indicator table (`Context.row`): a masked share
reads « s » and its target is « – », as everywhere else. Texts typed by the evaluator
are escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING

from IPython.display import HTML

from avs_eval import analyse, formatting
from avs_eval.blocs import html_table, share_cell
from avs_eval.config import Action, Config
from avs_eval.formatting import counted, plural
from avs_eval.schema import ALL_PERIMETER
from avs_eval.secrecy import MASK, SECRET_SYMBOL
from avs_eval.suivi import (
    STATE_LABELS,
    YearFollowUp,
    deadline_reached,
    milestones_over,
    state_in,
)

if TYPE_CHECKING:
    from avs_eval.catalog import Catalog
    from avs_eval.context import Context

__all__ = ["action_block", "followed_indicators", "milestone_rows", "state_text", "summary_table"]

DEADLINE = "échéance atteinte"


def state_text(action: Action, history: Mapping[int, YearFollowUp], annee: int) -> str:
    """« en cours », « réalisée », « non renseignée »…, with « échéance atteinte » when due."""
    etat = state_in(history, action.numero, annee)
    text = STATE_LABELS[etat]
    if deadline_reached(action, etat, annee):
        text += f" — {DEADLINE} ({action.fin}) sans être réalisée"
    return text


def milestone_rows(
    action: Action, history: Mapping[int, YearFollowUp], report_year: int
) -> list[tuple[str, str]]:
    """Each milestone once (its latest record) with its situation at the end of the year."""
    return [
        (m.libelle, m.status(report_year))
        for m in milestones_over(history, action.numero, report_year)
    ]


def followed_indicators(
    action: Action, catalog: Catalog, config: Config, context: Context, annee: int
) -> list[tuple[str, str, str, str]]:
    """The headline indicators attached to the action: (label, share, target, reached).

    The department's share of `annee` as published (« s » when masked), its target of
    that year and, both known, « atteinte » or « non atteinte ».
    """
    found = []
    for name in catalog.headline(config):
        item = catalog.item(name)
        if getattr(item, "action", None) != action.numero or not item.asked_in(annee):
            continue
        row = context.row(annee, "departement", ALL_PERIMETER, name)
        target = catalog.target(name, annee)
        reached = "–"
        if target is not None and row is not None and not row[MASK] and analyse.shown(row):
            ok = analyse.target_reached(row["part"], target, catalog.direction(name))
            reached = "atteinte" if ok else "non atteinte"
        elif target is not None and row is not None and row[MASK]:
            reached = SECRET_SYMBOL
        found.append(
            (
                catalog.label(name),
                share_cell(row, with_interval=False),
                formatting.percentage(target) if target is not None else "",
                reached,
            )
        )
    return found


def _list(items: list[str], empty: str) -> str:
    if not items:
        return f"<em>{html.escape(empty)}</em>"
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def action_block(
    action: Action,
    history: Mapping[int, YearFollowUp],
    report_year: int,
    followed: list[tuple[str, str, str, str]] | None = None,
    since: int | None = None,
) -> HTML:
    """The table of one action, as of the end of `report_year`.

    `since`: the first year shown (the bilan): the state and the achievements of each
    year from `since` to `report_year`; without it, those of `report_year` only.
    `followed`: `followed_indicators(…)`, the last row of the table.
    """
    rows: list[tuple[str, str]] = []
    first = max(action.debut, since) if since is not None else report_year
    years = [y for y in range(first, min(report_year, action.fin) + 1)]
    if report_year < action.debut:
        rows.append(("État", f"démarre en {action.debut}"))
    elif since is None:
        rows.append(
            (f"État fin {report_year}", html.escape(state_text(action, history, report_year)))
        )
    else:
        states = [
            f"<li><strong>{y}</strong> : {html.escape(state_text(action, history, y))}</li>"
            for y in years
        ]
        rows.append(("État, année par année", "<ul>" + "".join(states) + "</ul>"))
    done = []
    for y in years:
        found = history[y].get(action.numero) if y in history else None
        for text in found.realisations if found else ():
            done.append(f"{y} : {text}" if since is not None else text)
    label = "Réalisations" if since is not None else f"Réalisations {report_year}"
    rows.append((label, _list(done, "aucune réalisation renseignée")))
    milestones = milestone_rows(action, history, report_year)
    if milestones:
        items = "".join(
            f"<li>{html.escape(name)} : "
            + (f"<strong>{html.escape(status)}</strong>" if status.startswith("en retard")
               else html.escape(status))
            + "</li>"
            for name, status in milestones
        )  # fmt: skip
        rows.append((f"Jalons (situation fin {report_year})", f"<ul>{items}</ul>"))
    last = history[years[-1]].get(action.numero) if years and years[-1] in history else None
    if last is not None:
        if last.partenaires:
            rows.append(("Partenaires", html.escape(" ; ".join(last.partenaires))))
        if last.difficultes:
            rows.append(("Difficultés", html.escape(last.difficultes)))
        if last.suite:
            rows.append(("Suite prévue", html.escape(last.suite)))
    if followed:
        items = "".join(
            f"<li>{html.escape(label)} : {share}{' — cible ' + target if target else ''}"
            + (f" ({reached})" if reached not in ("–", "") else "")
            + "</li>"
            for label, share, target, reached in followed
        )
        rows.append((f"Indicateurs qui la suivent ({report_year}, ensemble)", f"<ul>{items}</ul>"))
    body = "".join(
        f'<tr><th scope="row">{html.escape(head)}</th><td>{cell}</td></tr>' for head, cell in rows
    )
    caption = f"Action {action.numero} : {action.intitule} ({action.debut}-{action.fin})"
    return HTML(
        f'<table class="avs-action"><caption>{html.escape(caption)}</caption>'
        f"<tbody>{body}</tbody></table>"
    )


def summary_table(config: Config, history: Mapping[int, YearFollowUp], report_year: int) -> HTML:
    """All the actions in one table, a row each: period, state, milestones done and late.

    The territory reports' short version: the follow-up is the department's, and the
    synthesis gives each action its own table (`action_block`).
    """
    body = []
    for action in config.actions:
        if report_year < action.debut:
            state = f"démarre en {action.debut}"
        else:
            state = state_text(action, history, report_year)
        milestones = milestones_over(history, action.numero, report_year)
        done = sum(m.done for m in milestones)
        late = [m for m in milestones if m.late(report_year)]
        if not milestones:
            steps = "aucun jalon renseigné"
        else:
            steps = (
                f"{counted(len(milestones), 'jalon', 'jalons')}, "
                f"{done} {plural(done, 'réalisé', 'réalisés')}"
            )
        cell = html.escape(steps)
        if late:
            names = " ; ".join(f"{m.libelle} (prévu {m.prevu.french()})" for m in late)
            cell += f"<br><strong>en retard</strong> : {html.escape(names)}"
        body.append(
            [
                html.escape(f"{action.numero}. {action.intitule}"),
                f"{action.debut}-{action.fin}",
                html.escape(state),
                cell,
            ]
        )
    return html_table(["Action", "Période", f"État fin {report_year}", "Jalons"], body)
