"""The evaluation settings of `parameters/`: period, secrecy threshold, actions, targets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from avs_eval import paths
from avs_eval.schema import QUESTIONS_BY_COLUMN, RESPONSE_RATE


@dataclass(frozen=True)
class Action:
    numero: int
    intitule: str
    debut: int
    fin: int
    questions: tuple[str, ...]

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
class Config:
    debut: int
    fin: int
    min_effectif: int
    code_fiche: str
    intitule_fiche: str
    diagnostic: str
    actions: tuple[Action, ...]

    @property
    def annees(self) -> tuple[int, ...]:
        return tuple(range(self.debut, self.fin + 1))


def _read_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@cache
def load_config(path: Path = paths.CONFIG_FILE) -> Config:
    """Read `parameters/config.yaml`, the one home of the period and deadlines."""
    raw = _read_yaml(path)
    sheet = raw.get("fiche_action", {})
    actions = tuple(
        Action(
            numero=int(a["numero"]),
            intitule=str(a["intitule"]),
            debut=int(a["debut"]),
            fin=int(a["fin"]),
            questions=tuple(a.get("questions", ())),
        )
        for a in raw.get("actions", ())
    )
    for action in actions:
        unknown = [q for q in action.questions if q not in QUESTIONS_BY_COLUMN]
        if unknown:
            raise ValueError(f"{path}: action {action.numero}: questions inconnues {unknown}")
    return Config(
        debut=int(raw["periode"]["debut"]),
        fin=int(raw["periode"]["fin"]),
        min_effectif=int(raw.get("min_effectif", 5)),
        code_fiche=str(sheet.get("code", "")),
        intitule_fiche=str(sheet.get("intitule", "")),
        diagnostic=str(sheet.get("diagnostic", "")),
        actions=actions,
    )


def load_targets(path: Path = paths.TARGETS_FILE) -> dict[tuple[str, str], float]:
    """Optional targets, keyed by (indicateur, modalite); empty when the file is absent."""
    if not path.exists():
        return {}
    raw = _read_yaml(path).get("cibles") or {}
    targets: dict[tuple[str, str], float] = {}
    for key, value in raw.items():
        indicateur, _, modalite = str(key).partition("/")
        if indicateur != RESPONSE_RATE and indicateur not in QUESTIONS_BY_COLUMN:
            raise ValueError(f"{path}: cible pour un indicateur inconnu : {key}")
        share = float(value)
        if not 0 <= share <= 1:
            raise ValueError(f"{path}: la cible de {key} doit être entre 0 et 1 (lu : {value})")
        targets[(indicateur, modalite)] = share
    return targets
