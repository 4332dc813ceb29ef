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
    significant = change.get("significatif")
    if significant is None or pd.isna(significant) or not bool(significant):
        return FLAT
    rising = float(change["ecart_apparie"]) > 0
    progress = rising == (sens == "hausse")
    return f"{UP if rising else DOWN} ({'progrès' if progress else 'recul'})"


def target_reached(share: float, target: float, sens: str = "hausse") -> bool:
    return share >= target if sens == "hausse" else share <= target


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
