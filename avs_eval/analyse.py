"""From figures to sentences: verdicts on changes and the « À retenir » of a report.

The sentences are built only from rows a partner may read (the masked table and the
published changes), so they can never state a masked figure. Their wording is
careful on purpose: a change is called « net » only when the paired test says so,
and a territory is said to differ from its collectivité only when the two
confidence intervals do not overlap.
"""

from __future__ import annotations

import pandas as pd

from avs_eval.secrecy import MASK

NBSP = "\u00a0"
UP, DOWN, FLAT = "hausse nette", "baisse nette", "stable ou dans la marge d'incertitude"


def pct(value: float) -> str:
    return f"{value * 100:.0f}{NBSP}%"


def points(value: float) -> str:
    return f"{value * 100:+.0f}{NBSP}pt{'s' if abs(round(value * 100)) > 1 else ''}".replace(
        "-", "−"
    )


def verdict(change: pd.Series, sens: str = "hausse") -> str:
    """« hausse nette », « baisse nette » or « stable… », with progress or decline when net.

    `sens` (catalog) says which way is progress: for governance difficulties, a net
    fall is progress.
    """
    if not significant(change.get("significatif")):
        return FLAT
    rising = float(change["ecart_apparie"]) > 0
    progress = rising == (sens == "hausse")
    return f"{UP if rising else DOWN} ({'progrès' if progress else 'recul'})"


def significant(flag: object) -> bool:
    """A change's `significatif` flag: True only when the paired test concluded.

    The flag is empty (None or NaN) when there was no test, e.g. no structure answered
    both years; an empty flag is not a net change.
    """
    return flag is not None and not pd.isna(flag) and bool(flag)


def target_reached(share: float, target: float, sens: str = "hausse") -> bool:
    return share >= target if sens == "hausse" else share <= target


def target_messages(results: list[tuple[str, float, float, str]], where: str) -> list[str]:
    """« Cibles atteintes <where> : … » then « Cibles non atteintes <where> : … ».

    `results` are (name in the sentence, share, target, direction), published shares only.
    """
    reached, missed = [], []
    for name, share, target, sens in results:
        text = f"{name} ({pct(share)} pour {pct(target)})"
        (reached if target_reached(share, target, sens) else missed).append(text)
    messages = []
    if reached:
        messages.append(f"Cibles atteintes {where} : {join(reached)}.")
    if missed:
        messages.append(f"Cibles non atteintes {where} : {join(missed)}.")
    return messages


def change_messages(net: list[tuple[str, pd.Series, str]]) -> list[str]:
    """The sentence on a territory's net changes since the baseline, or on their absence.

    `net` are (name in the sentence, published change, direction) of the changes the
    paired test calls net.
    """
    if not net:
        return [
            "Aucune évolution nette depuis l'année de référence sur les mêmes structures : les "
            "écarts observés restent dans la marge d'incertitude."
        ]
    parts = [
        f"{name} : {verdict(change, sens)} ({points(float(change['ecart']))} "
        f"depuis {int(change['annee_reference'])})"
        for name, change, sens in net
    ]
    return [
        "Évolutions nettes, mesurées sur les structures ayant répondu les deux années : "
        + join(parts)
        + "."
    ]


def gap_messages(pairs: list[tuple[str, pd.Series, pd.Series | None]], other: str) -> list[str]:
    """« Écarts nets avec <other> … »: the first two shares whose intervals do not overlap.

    `pairs` are (name in the sentence, a published share, the same share of `other`).
    """
    parts = []
    for name, row, theirs in pairs:
        if shown(theirs) and apart(row, theirs):
            word = "au-dessus" if row["part"] > theirs["part"] else "en dessous"
            parts.append(
                f"{name} ({pct(row['part'])}, {word} des {pct(theirs['part'])} de la collectivité)"
            )
    if not parts:
        return []
    return [
        f"Écarts nets avec {other} (intervalles de confiance disjoints) : " + join(parts[:2]) + "."
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


def join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]
