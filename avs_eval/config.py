"""The evaluation settings of `parameters/config.yaml`: period, secrecy, the sheet's texts,
and who publishes (the institution, its Word template).

One owner for every default: the CLI, the notebooks, the explorer and the batch all
read the period and the secrecy threshold from here, so a notebook run by hand and a
batch give the same figures. The file is checked when read (unknown key, wrong type,
inconsistent years), each mistake reported with its line, before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from avs_eval import paths, yamlfile


@dataclass(frozen=True)
class Action:
    """One action of the sheet; its start year is the first year its questions are asked."""

    numero: int
    intitule: str
    debut: int
    fin: int
    court: str = ""  # short title for tables of contents

    def stage(self, annee: int) -> str:
        """Where year `annee` stands in the action's schedule, in French."""
        if annee < self.debut:
            return f"pas encore engagée (démarre en {self.debut})"
        if annee > self.fin:
            return f"échéance dépassée (fin prévue en {self.fin})"
        total = self.fin - self.debut + 1
        rank = annee - self.debut + 1
        return f"année {rank} sur {total} ({self.debut}-{self.fin})"


@dataclass(frozen=True)
class Indicator:
    """One evaluation indicator of the sheet (1-4), as the sheet words it."""

    numero: int
    intitule: str
    court: str = ""


# Fallback of `secret > niveau_protection` when config.yaml omits it: the level it ships
# (no masked share recomputed exactly; 0 turns the audit off).
PROTECTION_LEVEL = 1


@dataclass(frozen=True)
class Config:
    debut: int
    fin: int
    min_effectif: int
    code_fiche: str
    intitule_fiche: str
    diagnostic: str
    indicateurs: tuple[Indicator, ...]
    actions: tuple[Action, ...]
    cible_taux_reponse: float | None = None
    niveau_protection: int = PROTECTION_LEVEL  # the secrecy audit's, see avs_eval.audit
    institution: str = ""  # the Word files' author
    modele_word: str = ""  # the institution's Word template, from the project root

    @property
    def annees(self) -> tuple[int, ...]:
        return tuple(range(self.debut, self.fin + 1))

    def action(self, numero: int) -> Action | None:
        return next((a for a in self.actions if a.numero == numero), None)

    def indicator(self, numero: int) -> Indicator | None:
        return next((i for i in self.indicateurs if i.numero == numero), None)


TOP_KEYS = (
    "periode",
    "min_effectif",
    "secret",
    "cible_taux_reponse",
    "fiche_action",
    "indicateurs",
    "actions",
    "institution",
    "modele_word",
)


@cache
def load_config(path: Path = paths.CONFIG_FILE) -> Config:
    """Read and check `parameters/config.yaml`; raise ValidationError listing every mistake."""
    raw, label = yamlfile.read(path)
    check = yamlfile.Checker(label)
    top = check.mapping(raw, 1, "")
    check.keys(top, "", TOP_KEYS, required=("periode", "actions"))
    period = check.mapping(top.get("periode"), check.line(top, "periode"), "periode")
    check.keys(period, "periode", ("debut", "fin"), required=("debut", "fin"))
    debut = check.integer(period, "debut", "periode", 2022, low=2000, high=2100)
    fin = check.integer(period, "fin", "periode", debut, low=2000, high=2100)
    if fin < debut:
        check.error(check.line(period, "fin"), "periode > fin", fin, "fin avant le début")
        fin = debut
    min_effectif = check.integer(top, "min_effectif", "", 5, low=1)
    secret = check.mapping(top.get("secret"), check.line(top, "secret"), "secret")
    check.keys(secret, "secret", ("niveau_protection",))
    protection = check.integer(secret, "niveau_protection", "secret", PROTECTION_LEVEL, low=0)
    target = None
    if top.get("cible_taux_reponse") is not None:
        target = check.share(
            top["cible_taux_reponse"], check.line(top, "cible_taux_reponse"), "cible_taux_reponse"
        )
    sheet = check.mapping(top.get("fiche_action"), check.line(top, "fiche_action"), "fiche_action")
    check.keys(sheet, "fiche_action", ("code", "intitule", "diagnostic"))

    indicators = []
    items = check.sequence(top.get("indicateurs"), check.line(top, "indicateurs"), "indicateurs")
    for position, item in enumerate(items):
        where = f"indicateurs > {position + 1}"
        entry = check.mapping(item, items.item_lines[position], where)
        check.keys(entry, where, ("numero", "intitule", "court"), required=("numero", "intitule"))
        numero = check.integer(entry, "numero", where, 0, low=1)
        indicators.append(
            Indicator(
                numero, check.text(entry, "intitule", where), check.text(entry, "court", where)
            )
        )
    _unique(check, [i.numero for i in indicators], items, "indicateurs")

    actions = []
    items = check.sequence(top.get("actions"), check.line(top, "actions"), "actions")
    for position, item in enumerate(items):
        where = f"actions > {position + 1}"
        entry = check.mapping(item, items.item_lines[position], where)
        check.keys(
            entry,
            where,
            ("numero", "intitule", "court", "debut", "fin"),
            required=("numero", "intitule", "debut", "fin"),
        )
        numero = check.integer(entry, "numero", where, 0, low=1)
        start = check.integer(entry, "debut", where, debut, low=debut, high=fin)
        end = check.integer(entry, "fin", where, fin, low=debut, high=fin)
        if end < start:
            check.error(check.line(entry, "fin"), f"{where} > fin", end, "fin avant le début")
        actions.append(
            Action(
                numero,
                check.text(entry, "intitule", where),
                start,
                end,
                check.text(entry, "court", where),
            )
        )
    _unique(check, [a.numero for a in actions], items, "actions")
    check.raise_if_any()
    return Config(
        debut=debut,
        fin=fin,
        min_effectif=min_effectif,
        code_fiche=check.text(sheet, "code", "fiche_action"),
        intitule_fiche=check.text(sheet, "intitule", "fiche_action"),
        diagnostic=check.text(sheet, "diagnostic", "fiche_action"),
        indicateurs=tuple(indicators),
        actions=tuple(actions),
        cible_taux_reponse=target,
        niveau_protection=protection,
        institution=check.text(top, "institution", ""),
        modele_word=check.text(top, "modele_word", ""),
    )


def _unique(check: yamlfile.Checker, numbers: list[int], items, where: str) -> None:
    seen: set[int] = set()
    for position, number in enumerate(numbers):
        if number in seen:
            check.error(items.item_lines[position], f"{where} > numero", number, "numéro en double")
        seen.add(number)


def secrecy_threshold(given: int | None = None) -> int:
    """The threshold a run uses: the one given (an option, a notebook parameter), or the config's.

    0 or None means the config's, so that a notebook's default (0) follows config.yaml.
    """
    return int(given) if given else load_config().min_effectif
