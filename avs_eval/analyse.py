"""From figures to sentences: verdicts on changes and the « À retenir » of a report.

The sentences are built only from rows a partner may read (the masked table and the
published changes), so they can never state a masked figure. Their wording is
careful on purpose: a change is called « net » only when the paired test says so,
a territory is said to differ from its collectivité only when the two confidence
intervals do not overlap, and a large gap that the test cannot confirm is said to be
inconclusive, not « stable ». Figures are written by `formatting`, the French by
`francais`: this module only decides what to say.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from avs_eval import formatting
from avs_eval.formatting import counted, plural
from avs_eval.francais import capitalised, in_words, join
from avs_eval.secrecy import MASK

UP, DOWN, FLAT = "hausse nette", "baisse nette", "stable ou dans la marge d'incertitude"
INCONCLUSIVE = "non concluant : trop peu de structures suivies les deux années"
# A paired test on fewer structures than this concludes only when nearly all of them
# changed their answer: a gap, even large, then says little. Judged on the published
# numbers of respondents of the two years (the paired count itself is never published).
FEW_PAIRED = 10
# A gap (in share) a reader notices: below it, an inconclusive test needs no sentence.
NOTICEABLE = 0.10


def verdict(change: pd.Series, sens: str = "hausse", few: bool = False) -> str:
    """« hausse nette (progrès) », « baisse nette (recul) », « stable… » or « non concluant… ».

    `sens` (catalog) says which way is progress: for governance difficulties, a net
    fall is progress. `few`: the change rests on so few structures that the test could
    hardly conclude; « stable » would then mislead.
    """
    if not significant(change.get("significatif")):
        return INCONCLUSIVE if few else FLAT
    rising = float(change["ecart_apparie"]) > 0
    return f"{UP if rising else DOWN} ({'progrès' if is_progress(change, sens) else 'recul'})"


def is_progress(change: pd.Series, sens: str = "hausse") -> bool:
    return (float(change["ecart_apparie"]) > 0) == (sens == "hausse")


def significant(flag: object) -> bool:
    """A change's `significatif` flag: True only when the paired test concluded.

    The flag is empty (None or NaN) when there was no test, e.g. no structure answered
    both years; an empty flag is not a net change.
    """
    return flag is not None and not pd.isna(flag) and bool(flag)


def target_reached(share: float, target: float, sens: str = "hausse") -> bool:
    """Reached as the reader sees it: on the rounded percentages (80 % for 80 %)."""
    shown, aimed = formatting.percent_value(share), formatting.percent_value(target)
    return shown >= aimed if sens == "hausse" else shown <= aimed


def target_messages(results: list[tuple[str, float, float, str]], where: str) -> list[str]:
    """« Cibles atteintes <where> : … » then « Cible non atteinte <where> : … ».

    `results` are (short label, share, target, direction), published shares only.
    """
    reached, missed = [], []
    for name, share, target, sens in results:
        text = (
            f"{name} ({formatting.percentage(share)} pour une cible de "
            f"{formatting.percentage(target)})"
        )
        (reached if target_reached(share, target, sens) else missed).append(text)
    messages = []
    total = len(reached) + len(missed)
    if reached:
        if len(reached) == total:
            head = (
                "La cible est atteinte"
                if total == 1
                else f"Les {in_words(total, feminine=True)} cibles sont atteintes"
            )
        else:
            head = (
                f"{capitalised(in_words(len(reached), feminine=True))} "
                f"{plural(len(reached), 'cible')} sur {in_words(total, feminine=True)} "
                f"{plural(len(reached), 'est atteinte', 'sont atteintes')}"
            )
        messages.append(f"{head} {where} : {join(reached)}.")
    if missed:
        head = plural(len(missed), "Cible non atteinte", "Cibles non atteintes")
        messages.append(f"{head} {where} : {join(missed)}.")
    return messages


@dataclass(frozen=True)
class Change:
    """A published net change, as a sentence names it."""

    name: str  # short label
    change: pd.Series
    sens: str

    @property
    def progress(self) -> bool:
        return is_progress(self.change, self.sens)

    @property
    def rising(self) -> bool:
        return float(self.change["ecart_apparie"]) > 0


def grouped_changes(changes: list[Change], with_points: bool, where: str) -> list[str]:
    """Net changes grouped by verdict, one clause per group, never a verdict repeated.

    « Progrès nets <where> : en hausse, a, b et c ; en baisse, d. » then « Reculs nets … ».
    """

    def item(c: Change) -> str:
        if not with_points:
            return c.name
        gap = formatting.points(float(c.change["ecart"]))
        return f"{c.name} ({gap} depuis {int(c.change['annee_reference'])})"

    sentences = []
    for progress, head in ((True, "progrès nets"), (False, "reculs nets")):
        group = [c for c in changes if c.progress == progress]
        if not group:
            continue
        clauses = []
        for rising, word in ((True, "en hausse"), (False, "en baisse")):
            names = [item(c) for c in group if c.rising == rising]
            if names:
                clauses.append(f"{word}, {join(names)}")
        sentences.append(capitalised(f"{head}{where} : {' ; '.join(clauses)}."))
    return sentences


def change_messages(net: list[Change], where: str = "") -> list[str]:
    """The sentences on net changes since the baseline (grouped by verdict), or their absence."""
    if not net:
        return [
            "Aucune évolution nette depuis l'année de référence sur les mêmes structures : les "
            "écarts observés restent dans la marge d'incertitude."
        ]
    suffix = where + ", mesurés sur les structures ayant répondu les deux années"
    return grouped_changes(net, with_points=True, where=suffix)


def inconclusive_message(name: str, change: pd.Series, respondents: int) -> str:
    """The sentence a committee needs before a large gap the paired test cannot confirm."""
    gap = formatting.points(float(change["ecart"]))
    return (
        f"{capitalised(name)} : {gap} depuis {int(change['annee_reference'])} (de "
        f"{formatting.percentage(change['part_reference'])} à "
        f"{formatting.percentage(change['part'])}), mais sur "
        f"{counted(respondents, 'structure répondante', 'structures répondantes')} cette "
        "année, trop peu pour conclure ; l'écart peut tenir au hasard ou au changement des "
        "structures qui répondent."
    )


def gap_messages(pairs: list[tuple[str, pd.Series, pd.Series | None]], other: str) -> list[str]:
    """« Écart net avec la collectivité … »: the first two shares whose intervals do not overlap.

    `pairs` are (short label, a published share, the same share of the collectivité).
    """
    parts = []
    for name, row, theirs in pairs:
        if shown(theirs) and apart(row, theirs):
            word = "au-dessus" if row["part"] > theirs["part"] else "en dessous"
            parts.append(
                f"{name} ({formatting.percentage(row['part'])}, {word} des "
                f"{formatting.percentage(theirs['part'])} de la collectivité)"
            )
    if not parts:
        return []
    head = plural(len(parts[:2]), "Écart net", "Écarts nets")
    return [
        f"{head} avec la collectivité, {other} (intervalles de confiance disjoints) : "
        + join(parts[:2])
        + "."
    ]


def shown(row: pd.Series | None) -> bool:
    """A share a partner may read: present, defined and not masked."""
    return row is not None and not bool(row[MASK]) and not pd.isna(row["part"])


def apart(a: pd.Series, b: pd.Series) -> bool:
    """Two shares whose 95 % intervals do not overlap."""
    values = [a["ic_bas"], a["ic_haut"], b["ic_bas"], b["ic_haut"]]
    if any(pd.isna(v) for v in values):
        return False
    return a["ic_bas"] > b["ic_haut"] or b["ic_bas"] > a["ic_haut"]
