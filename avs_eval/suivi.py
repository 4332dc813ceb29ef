"""The follow-up of the sheet's actions: `parameters/suivi/<année>.yaml`, read, checked, typed.

An action sheet is evaluated on its actions as well as on its indicators: what the Caf,
the federation and the structures did for each action, by its deadline. The evaluator
records it once a year, by hand, in one YAML file per year (French keys, no Python):

    actions:
      - numero: 1
        etat: en_cours            # a_engager | en_cours | realisee | reportee | abandonnee
        realisations: ["Formation « communiquer sur son projet social » : 3 sessions"]
        jalons:
          - {libelle: "Guide de communication diffusé", prevu: 2025-06, realise: 2025-09}
          - {libelle: "Journée départementale", prevu: 2025-11}
        partenaires: [Fédération des centres sociaux du Rhône]
        difficultes: "…"
        suite: "…"

So a mistake is reported like the catalog's, with file, line, key and value, every
mistake of every file at once, before anything is written. An action that a year's
file does not list is « non renseignée » that year: a report says so rather than guess.

The rules a report applies, decided here once (reports, CSV, chart and bilan agree):

- **the year of a file** is a record of that year as it stood at its end: the file of
  2025 is completed once 2025 is over. So a milestone is « en retard » in the report of
  year Y when it is not done (no `realise`) and its planned date falls in Y or before (a
  milestone planned for December 2025 and not done is late in the 2025 report). The rule
  depends on the report's year only, never on today's date, so a report re-made later
  gives the same page.
- **« échéance atteinte »**: the report's year is the action's last year (or later) and
  the action is not `realisee`.
- **dates** are `AAAA-MM` or `AAAA-MM-JJ`; YAML reads the first as text and the second as a
  date, both are accepted. A month-only date covers its whole month when compared.

Reading never draws: the chart (`suivi_frise.timeline`) takes what was read here and
imports matplotlib inside, so the CLI and the CSV never load it.

Entry points for the CLI (`avs-eval suivi [--annee A]`) and the reports:
`load_follow_up`, `load_all`, `table` / `rows` (the published `suivi_actions.csv`),
`write_template`, `default_year`, `describe`, `milestones_table`, `Milestone.status`,
`deadline_reached`; the chart is
`suivi_frise.timeline`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from avs_eval import paths, yamlfile
from avs_eval.config import Action, Config, load_config
from avs_eval.errors import UsageError
from avs_eval.formatting import MONTHS
from avs_eval.output import write_atomic

# The states an action can be in, as written in the files, and as read in the reports.
STATES: tuple[str, ...] = ("a_engager", "en_cours", "realisee", "reportee", "abandonnee")
NOT_FILLED = "non_renseignee"  # the action is not listed in the year's file
STATE_LABELS: dict[str, str] = {
    "a_engager": "à engager",
    "en_cours": "en cours",
    "realisee": "réalisée",
    "reportee": "reportée",
    "abandonnee": "abandonnée",
    NOT_FILLED: "non renseignée",
}
ACTION_KEYS = (
    "numero",
    "etat",
    "realisations",
    "jalons",
    "partenaires",
    "difficultes",
    "suite",
)
MILESTONE_KEYS = ("libelle", "prevu", "realise")
# the columns of `suivi_actions.csv`, in order (the interface that checks outside rely on)
COLUMNS: tuple[str, ...] = (
    "annee",
    "action",
    "intitule",
    "debut",
    "fin",
    "etat",
    "realisations",
    "jalons_prevus",
    "jalons_realises",
    "jalons_en_retard",
)
JOIN = " ; "  # several texts in one cell of the CSV
_DATE = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")
BAD_DATE = "date invalide : AAAA-MM ou AAAA-MM-JJ attendu (ex. 2025-06 ou 2025-06-15)"


def folder() -> Path:
    """`parameters/suivi/`, looked up at each call: a test points `paths.PARAMETERS_DIR` away."""
    return paths.PARAMETERS_DIR / "suivi"


def path_for(annee: int, where: Path | None = None) -> Path:
    return (where or folder()) / f"{annee}.yaml"


# --- the typed follow-up --------------------------------------------------------------


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date as the evaluator writes it: a month (`2025-06`) or a day (`2025-06-15`)."""

    year: int
    month: int
    day: int | None = None

    def __str__(self) -> str:
        month = f"{self.year:04d}-{self.month:02d}"
        return month if self.day is None else f"{month}-{self.day:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        """The day itself, or the month's last day: a month-only date covers its month."""
        last = calendar.monthrange(self.year, self.month)[1]
        return dt.date(self.year, self.month, self.day or last)

    def french(self) -> str:
        """« juin 2025 », « 15 juin 2025 »."""
        month = f"{MONTHS[self.month - 1]} {self.year}"
        return month if self.day is None else f"{self.day} {month}"

    def on(self) -> str:
        """« en juin 2025 », « le 15 juin 2025 »: the date after a verb."""
        return f"en {self.french()}" if self.day is None else f"le {self.french()}"

    @property
    def position(self) -> float:
        """Where the date sits on a time axis whose year Y spans [Y - 0.5, Y + 0.5]."""
        days = calendar.monthrange(self.year, self.month)[1]
        within = 0.5 if self.day is None else (self.day - 0.5) / days
        return self.year - 0.5 + (self.month - 1 + within) / 12


def end_of(annee: int) -> dt.date:
    """The reference date of the report of year `annee`: the day after the year's end."""
    return dt.date(annee + 1, 1, 1)


@dataclass(frozen=True)
class Milestone:
    """A step of an action, planned for a date, done (`realise`) or not yet."""

    libelle: str
    prevu: PartialDate
    realise: PartialDate | None = None

    @property
    def done(self) -> bool:
        return self.realise is not None

    def late(self, reference: int | dt.date) -> bool:
        """« en retard »: not done, and its planned date is over at `reference`.

        `reference` is the report's year (its situation at the end of that year, see the
        module's docstring) or a date.
        """
        when = end_of(reference) if isinstance(reference, int) else reference
        return not self.done and self.prevu.last_day < when

    def status(self, reference: int | dt.date) -> str:
        """The milestone's state in a report's table, in French."""
        if self.realise is not None:
            return f"réalisé ({self.realise.french()})"
        if self.late(reference):
            return f"en retard (prévu {self.prevu.french()})"
        return f"prévu ({self.prevu.french()})"


@dataclass(frozen=True)
class ActionFollowUp:
    """What the year's file says about one action."""

    numero: int
    etat: str  # one of STATES
    realisations: tuple[str, ...] = ()
    jalons: tuple[Milestone, ...] = ()
    partenaires: tuple[str, ...] = ()
    difficultes: str = ""
    suite: str = ""
    ligne: int | None = field(default=None, compare=False)  # its line in the file

    def late(self, reference: int | dt.date) -> tuple[Milestone, ...]:
        return tuple(m for m in self.jalons if m.late(reference))


@dataclass(frozen=True)
class YearFollowUp:
    """One year's file; `fichier` is None when the year has no file yet."""

    annee: int
    actions: Mapping[int, ActionFollowUp]
    fichier: str | None = None

    def get(self, numero: int) -> ActionFollowUp | None:
        return self.actions.get(numero)

    def state(self, numero: int) -> str:
        """The action's state code that year, `non_renseignee` when the file does not list it."""
        found = self.actions.get(numero)
        return found.etat if found else NOT_FILLED


def deadline_reached(action: Action, etat: str, report_year: int) -> bool:
    """« échéance atteinte »: the report's year is the action's last (or later), not `realisee`."""
    return report_year >= action.fin and etat != "realisee"


# --- reading and checking -------------------------------------------------------------


def _config(config: Config | None) -> Config:
    return config if config is not None else load_config()


def _check_year(annee: int, config: Config) -> None:
    if not config.debut <= annee <= config.fin:
        raise UsageError(
            f"année {annee} hors de la période du schéma ({config.debut}-{config.fin}, "
            "parameters/config.yaml)"
        )


def load_follow_up(
    annee: int, where: Path | None = None, config: Config | None = None
) -> YearFollowUp:
    """Read and check the follow-up of year `annee`; no file means nothing filled in.

    Raises `yamlfile.ParameterError` (a ValidationError: exit 1, no traceback) listing
    every mistake with its file, line, key and value.
    """
    config = _config(config)
    _check_year(annee, config)
    path = path_for(annee, where)
    if not path.exists():
        return YearFollowUp(annee, {}, None)
    raw, label = yamlfile.read(path)
    check = yamlfile.Checker(label)
    actions = _Reader(check, config, annee).actions(raw)
    check.raise_if_any()
    return YearFollowUp(annee, actions, label)


def load_all(
    up_to_year: int, where: Path | None = None, config: Config | None = None
) -> dict[int, YearFollowUp]:
    """Every year of the schéma from its first to `up_to_year`, files missing or not.

    The mistakes of all the files are reported together, so that one run of the
    command lists everything to fix.
    """
    config = _config(config)
    _check_year(up_to_year, config)
    history: dict[int, YearFollowUp] = {}
    errors = []
    for annee in range(config.debut, up_to_year + 1):
        try:
            history[annee] = load_follow_up(annee, where, config)
        except yamlfile.ParameterError as exc:
            errors += exc.errors
    if errors:
        raise yamlfile.ParameterError(errors)
    return history


def files(up_to_year: int, where: Path | None = None) -> list[Path]:
    """The follow-up files a report of `up_to_year` depends on (for its re-runs)."""
    base = where or folder()
    found = []
    for path in sorted(base.glob("*.yaml")):
        if path.stem.isdigit() and int(path.stem) <= up_to_year:
            found.append(path)
    return found


class _Reader:
    """Turns one file's entries into ActionFollowUp, reporting each mistake to the checker."""

    def __init__(self, check: yamlfile.Checker, config: Config, annee: int) -> None:
        self.check = check
        self.config = config
        self.annee = annee

    def actions(self, raw: object) -> dict[int, ActionFollowUp]:
        check = self.check
        if raw is None:  # an empty file: nothing filled in yet
            return {}
        top = check.mapping(raw, 1, "")
        check.keys(top, "", ("actions",))
        entries = check.sequence(top.get("actions"), check.line(top, "actions"), "actions")
        found: dict[int, ActionFollowUp] = {}
        for position, raw_entry in enumerate(entries):
            line = entries.item_lines[position]
            item = self.action(raw_entry, line, position + 1)
            if item is None:
                continue
            if item.numero in found:
                check.error(
                    check.line(raw_entry, "numero"),
                    f"actions > action {item.numero} > numero",
                    item.numero,
                    f"action déjà renseignée plus haut (ligne {found[item.numero].ligne}) : "
                    "une seule entrée par action et par an",
                )
                continue
            found[item.numero] = item
        return dict(sorted(found.items()))

    def action(self, raw: object, line: int, position: int) -> ActionFollowUp | None:
        check = self.check
        where = f"actions > {position}"
        entry = check.mapping(raw, line, where)
        numero = check.integer(entry, "numero", where)
        if numero is not None:
            where = f"actions > action {numero}"
        check.keys(entry, where, ACTION_KEYS, required=("numero", "etat"))
        etat = check.choice(entry, "etat", where, STATES)
        action = self.known(entry, numero, where)
        jalons = self.milestones(entry, where)
        realisations = self.texts(entry, "realisations", where)
        partenaires = self.texts(entry, "partenaires", where)
        if action is None or etat is None:
            return None
        return ActionFollowUp(
            numero=action.numero,
            etat=etat,
            realisations=realisations,
            jalons=jalons,
            partenaires=partenaires,
            difficultes=check.text(entry, "difficultes", where),
            suite=check.text(entry, "suite", where),
            ligne=line,
        )

    def known(self, entry, numero: int | None, where: str) -> Action | None:
        """The action of config.yaml, open in the file's year; else None and an error."""
        if numero is None:
            return None
        line = self.check.line(entry, "numero")
        action = self.config.action(numero)
        if action is None:
            numbers = ", ".join(str(a.numero) for a in self.config.actions)
            self.check.error(
                line,
                f"{where} > numero",
                numero,
                f"action inconnue de parameters/config.yaml (actions : {numbers})",
            )
            return None
        if not action.debut <= self.annee <= action.fin:
            self.check.error(
                line,
                f"{where} > numero",
                numero,
                f"année {self.annee} hors de la période de l'action {numero} "
                f"({action.debut}-{action.fin}) : elle ne se suit pas cette année-là",
            )
            return None
        return action

    def texts(self, entry, key: str, where: str) -> tuple[str, ...]:
        """A list of texts; one text alone is taken as a list of one."""
        value = entry.get(key)
        if value is None:
            return ()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = str(value).strip()
            return (text,) if text else ()
        items = self.check.sequence(value, self.check.line(entry, key), f"{where} > {key}")
        result = []
        for position, item in enumerate(items):
            if isinstance(item, (yamlfile.Lined, yamlfile.LinedList)) or item is None:
                self.check.error(
                    items.item_lines[position],
                    f"{where} > {key} > {position + 1}",
                    item,
                    "un texte est attendu (entre guillemets s'il contient « : »)",
                )
                continue
            if str(item).strip():
                result.append(str(item).strip())
        return tuple(result)

    def milestones(self, entry, where: str) -> tuple[Milestone, ...]:
        check = self.check
        items = check.sequence(
            entry.get("jalons"), check.line(entry, "jalons"), f"{where} > jalons"
        )
        result = []
        seen: dict[str, int] = {}  # label -> line
        for position, raw in enumerate(items):
            at = f"{where} > jalons > {position + 1}"
            item = check.mapping(raw, items.item_lines[position], at)
            check.keys(item, at, MILESTONE_KEYS, required=("libelle", "prevu"))
            libelle = check.text(item, "libelle", at)
            prevu = self.date(item, "prevu", at)
            realise = self.date(item, "realise", at)
            if prevu and realise and realise.last_day < prevu.first_day:
                check.error(
                    check.line(item, "realise"),
                    f"{at} > realise",
                    realise,
                    f"réalisé avant la date prévue ({prevu}) : vérifiez les deux dates",
                )
                continue
            if libelle in seen:
                check.error(
                    check.line(item, "libelle"),
                    f"{at} > libelle",
                    libelle,
                    f"jalon déjà listé pour cette action (ligne {seen[libelle]}) : un libellé "
                    "désigne un jalon d'une année à l'autre",
                )
                continue
            if libelle and prevu:
                seen[libelle] = items.item_lines[position]
                result.append(Milestone(libelle, prevu, realise))
        return tuple(result)

    def date(self, entry, key: str, where: str) -> PartialDate | None:
        value = entry.get(key)
        if value is None or value == "":
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.check.error(self.check.line(entry, key), f"{where} > {key}", value, BAD_DATE)
        return parsed


def parse_date(value: object) -> PartialDate | None:
    """`2025-06` (text for YAML) or `2025-06-15` (a date for YAML); None when neither."""
    if isinstance(value, dt.datetime):
        return None  # a time of day: not a date of the follow-up
    if isinstance(value, dt.date):
        return PartialDate(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    day = int(match[3]) if match[3] else None
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return PartialDate(year, month, day)


# --- the published table --------------------------------------------------------------


def table(history: Mapping[int, YearFollowUp], config: Config, up_to_year: int) -> pd.DataFrame:
    """`suivi_actions.csv`: one row per year and action open that year, up to `up_to_year`.

    Texts are joined with « ; », counts are integers; a milestone is counted late as of
    the end of the row's year (the situation that year's report showed).
    """
    records = []
    for annee in sorted(y for y in history if y <= up_to_year):
        year = history[annee]
        for action in config.actions:
            if not action.debut <= annee <= action.fin:
                continue
            found = year.get(action.numero)
            jalons = found.jalons if found else ()
            records.append(
                {
                    "annee": annee,
                    "action": action.numero,
                    "intitule": action.intitule,
                    "debut": action.debut,
                    "fin": action.fin,
                    "etat": year.state(action.numero),
                    "realisations": JOIN.join(found.realisations) if found else "",
                    "jalons_prevus": len(jalons),
                    "jalons_realises": sum(m.done for m in jalons),
                    "jalons_en_retard": sum(m.late(annee) for m in jalons),
                }
            )
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    counts = ["annee", "action", "debut", "fin", "jalons_prevus", "jalons_realises"]
    return frame.astype({name: "int64" for name in [*counts, "jalons_en_retard"]})


def rows(up_to_year: int, where: Path | None = None, config: Config | None = None) -> pd.DataFrame:
    """Read every file up to `up_to_year` and return the published table (see `table`)."""
    config = _config(config)
    return table(load_all(up_to_year, where, config), config, up_to_year)


def milestones_table(found: ActionFollowUp | None, report_year: int) -> pd.DataFrame:
    """An action's milestones as a report's table shows them, French headings and dates.

    « Situation » is « réalisé (…) », « en retard (prévu …) » or « prévu (…) », as of the
    end of `report_year`; no milestone gives an empty table with the same columns.
    """
    return pd.DataFrame(
        [
            {
                "Jalon": m.libelle,
                "Prévu": m.prevu.french(),
                "Réalisé": m.realise.french() if m.realise else "",
                "Situation": m.status(report_year),
            }
            for m in (found.jalons if found else ())
        ],
        columns=["Jalon", "Prévu", "Réalisé", "Situation"],
    )


# --- the year's template --------------------------------------------------------------


@dataclass(frozen=True)
class TemplateOutcome:
    """What `write_template` did: `created` is False when the file was already there."""

    path: Path
    created: bool
    message: str  # in French, for the terminal


def default_year(config: Config | None = None, today: dt.date | None = None) -> int:
    """The year `avs-eval suivi` prepares without `--annee`: this year, kept in the schéma."""
    config = _config(config)
    year = (today or dt.date.today()).year
    return min(max(year, config.debut), config.fin)


def write_template(
    annee: int, where: Path | None = None, config: Config | None = None
) -> TemplateOutcome:
    """Write the follow-up file of `annee` for the evaluator to fill in; never overwrite one.

    One entry per action open that year. From the previous year's file (checked first:
    a wrong file stops everything, nothing is written) come each action's state and its
    milestones not yet done; the previous year's « suite » is recalled as a comment.
    """
    config = _config(config)
    _check_year(annee, config)
    path = path_for(annee, where)
    shown = paths.display_path(path)
    if path.exists():
        return TemplateOutcome(
            path,
            False,
            f"{shown} existe déjà : il est laissé tel quel (rien n'est écrasé). "
            "Modifiez-le directement, ou supprimez-le pour repartir du modèle.",
        )
    previous = load_follow_up(annee - 1, where, config) if annee > config.debut else None
    write_atomic(path, template(annee, config, previous))
    origin = (
        f", état et jalons non réalisés repris de {annee - 1}"
        if previous is not None and previous.fichier
        else ""
    )
    return TemplateOutcome(
        path,
        True,
        f"{shown} créé : une entrée par action suivie en {annee}{origin}. "
        "Complétez-le (états, réalisations, jalons) : les rapports le liront à la prochaine "
        "production.",
    )


def template(annee: int, config: Config, previous: YearFollowUp | None) -> str:
    """The text of the year's file: one commented entry per action open in `annee`."""
    before = annee - 1
    lines = [
        f"# Suivi des actions de la fiche {config.code_fiche or 'action'} : année {annee}.",
        "# À compléter par l'évaluateur. Ce fichier décrit la situation de chaque action à la",
        f"# fin de {annee} ; les rapports (section « Mise en œuvre des actions »), la frise et",
        "# suivi_actions.csv le lisent. Une action absente de ce fichier est « non renseignée ».",
        "#",
        "# Clés de chaque action (seules numero et etat sont obligatoires) :",
        "#   numero       : le numéro de l'action dans parameters/config.yaml",
        "#   etat         : a_engager | en_cours | realisee | reportee | abandonnee",
        "#   realisations : ce qui a été fait dans l'année, un élément « - » par réalisation",
        '#   jalons       : étapes datées, {libelle: "…", prevu: AAAA-MM, realise: AAAA-MM} ;',
        "#                  dates AAAA-MM ou AAAA-MM-JJ ; ajoutez realise une fois l'étape faite.",
        f"#                  Un jalon prévu en {annee} ou avant et non réalisé est « en retard ».",
        "#   partenaires  : les partenaires associés, un élément par partenaire",
        "#   difficultes  : les difficultés rencontrées (texte entre guillemets)",
        "#   suite        : ce qui est prévu ensuite (texte entre guillemets)",
        "",
        "actions:",
    ]
    for action in config.actions:
        if not action.debut <= annee <= action.fin:
            continue
        last = previous.get(action.numero) if previous is not None else None
        if action.debut == annee:
            etat, origin = "a_engager", f"l'action démarre en {annee}"
        elif last is None:
            etat, origin = "a_engager", f"état non renseigné en {before}, à vérifier"
        else:
            etat, origin = last.etat, f"état de {before}, à mettre à jour"
        kept = [m for m in last.jalons if not m.done] if last is not None else []
        lines.append(f"  # Action {action.numero} : {action.intitule} — {action.stage(annee)}")
        if annee == action.fin:
            lines.append(
                "  # Dernière année de l'action : sans « etat: realisee », les rapports "
                "indiquent « échéance atteinte »."
            )
        lines += [
            f"  - numero: {action.numero}",
            f"    etat: {etat}  # {origin}",
            "    realisations: []",
        ]
        if kept:
            lines.append(f"    jalons:  # non réalisés fin {before}, repris : ajoutez realise")
            lines += [f"      - {{libelle: {_quoted(m.libelle)}, prevu: {m.prevu}}}" for m in kept]
        else:
            lines.append("    jalons: []")
        lines += [
            "    partenaires: []",
            '    difficultes: ""',
        ]
        if last is not None and last.suite:
            lines.append(f"    # suite prévue en {before} : {' '.join(last.suite.split())}")
        lines += ['    suite: ""', ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _quoted(text: str) -> str:
    """A YAML double-quoted string (JSON's escapes are YAML's), accents kept as written."""
    return json.dumps(text, ensure_ascii=False)


# --- the timeline, in words (the chart is drawn by suivi_frise.timeline) -------------


def state_in(history: Mapping[int, YearFollowUp], numero: int, annee: int) -> str:
    """The action's state code in `annee`; `non_renseignee` when the year has no record."""
    return history[annee].state(numero) if annee in history else NOT_FILLED


def milestones_over(
    history: Mapping[int, YearFollowUp], numero: int, up_to_year: int
) -> list[Milestone]:
    """An action's milestones over the years, each once, as its latest file records it.

    A milestone carried over from year to year (same label) is one step of the action,
    not one per file: its latest record (re-planned, then done) is the one that counts.
    """
    latest: dict[str, Milestone] = {}
    for annee in sorted(y for y in history if y <= up_to_year):
        found = history[annee].get(numero)
        for milestone in found.jalons if found else ():
            latest.pop(milestone.libelle, None)  # keep the order of the latest record
            latest[milestone.libelle] = milestone
    return list(latest.values())


def describe(history: Mapping[int, YearFollowUp], config: Config, report_year: int) -> str:
    """The timeline in French sentences: each action's states by year, then its milestones."""
    years = config.annees
    sentences = [
        f"Frise de mise en œuvre des actions du schéma, {years[0]}-{years[-1]}, "
        f"situation à fin {report_year}."
    ]
    for action in config.actions:
        shown_until = min(report_year, action.fin)
        name = action.court or action.intitule
        head = f"Action {action.numero} ({name}, {action.debut}-{action.fin})"
        if shown_until < action.debut:
            sentences.append(f"{head} : démarre en {action.debut}.")
            continue
        years_shown = range(action.debut, shown_until + 1)
        spans = _spans([(a, state_in(history, action.numero, a)) for a in years_shown])
        parts = [
            f"{STATE_LABELS[state]} {_years_text(first, last)}" for first, last, state in spans
        ]
        text = f"{head} : {_enumerate(parts)}"
        if deadline_reached(action, state_in(history, action.numero, shown_until), report_year):
            text += f" ; échéance atteinte en {action.fin} sans être réalisée"
        milestones = milestones_over(history, action.numero, report_year)
        if milestones:
            described = [f"« {m.libelle} » {_milestone_text(m, report_year)}" for m in milestones]
            text += f". Jalons : {_enumerate(described)}"
        sentences.append(text + ".")
    return " ".join(sentences)


def _milestone_text(milestone: Milestone, report_year: int) -> str:
    if milestone.realise is not None:
        return f"prévu {milestone.prevu.on()}, réalisé {milestone.realise.on()}"
    if milestone.late(report_year):
        return f"prévu {milestone.prevu.on()}, en retard"
    return f"prévu {milestone.prevu.on()}"


def _spans(states: Sequence[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Consecutive years with the same state, as (first, last, state)."""
    spans: list[tuple[int, int, str]] = []
    for annee, state in states:
        if spans and spans[-1][2] == state and spans[-1][1] == annee - 1:
            spans[-1] = (spans[-1][0], annee, state)
        else:
            spans.append((annee, annee, state))
    return spans


def _years_text(first: int, last: int) -> str:
    if first == last:
        return f"en {first}"
    if last == first + 1:
        return f"en {first} et {last}"
    return f"de {first} à {last}"


def _enumerate(parts: Sequence[str]) -> str:
    """« a, b et c »; parts that hold commas are separated by « ; »."""
    if len(parts) <= 1:
        return "".join(parts)
    separator = " ; " if any("," in p for p in parts) else ", "
    return f"{separator.join(parts[:-1])} et {parts[-1]}"
