"""The questionnaire as data: `parameters/questionnaire.yaml`, read, checked and typed.

The survey changes every year (a new question, a new code, a target that moves) and
the people who change it are evaluators, not programmers. So every question, code,
label, target and headline flag lives in that YAML file, and the loader, the
indicators, the reports, the questionnaire generator, the imports and the explorer all
follow from it: a new question is one entry there and a column in the answers.

The catalog is checked against `config.yaml` (indicator and action numbers, the
period) when it is read; every mistake is reported with its line, before any data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

from avs_eval import paths, yamlfile
from avs_eval.config import Config, load_config

QuestionKind = Literal["oui_non", "liste", "texte"]
KINDS: tuple[str, ...] = ("oui_non", "liste", "texte")
DIRECTIONS: tuple[str, ...] = ("hausse", "baisse")
NAME = re.compile(r"[a-z0-9_]+")
RESPONSE_KEYS: tuple[str, ...] = ("structure_id", "annee")
# The participation indicator, computed for every perimeter before the questions.
RESPONSE_RATE = "taux_reponse"
RESPONSE_RATE_LABEL = "Taux de réponse à l'enquête"
RESPONSE_RATE_SHORT = "taux de réponse"
RESERVED = (*RESPONSE_KEYS, RESPONSE_RATE)


@dataclass(frozen=True)
class Target:
    """A target share, constant or set per year (a year takes the last value set before)."""

    by_year: tuple[tuple[int, float], ...]  # sorted; year 0 = from the start

    def at(self, year: int) -> float | None:
        value = None
        for start, share in self.by_year:
            if start <= year:
                value = share
        return value


@dataclass(frozen=True)
class Modalite:
    """One code of a list question, with the French label shown to readers."""

    code: str
    libelle: str
    exclusive: bool = False  # e.g. "aucun": makes no sense beside another code
    depuis: int | None = None  # first year offered (None: as its question)
    jusqu_a: int | None = None  # last year offered (None: still offered)
    cible: Target | None = None

    def asked_in(self, year: int) -> bool:
        return (self.depuis is None or year >= self.depuis) and (
            self.jusqu_a is None or year <= self.jusqu_a
        )


@dataclass(frozen=True)
class _Followed:
    """What a question and a derived indicator share: where they sit in the sheet."""

    libelle: str
    indicateur: int | None
    action: int | None
    depuis: int
    jusqu_a: int | None
    cle: bool
    sens: str
    cible: Target | None
    # A short label for sentences (« permanence d'un partenaire »), distinct from the
    # question's text; empty: the label, lowered (`Catalog.short_label`).
    libelle_court: str = ""

    def asked_in(self, year: int) -> bool:
        return year >= self.depuis and (self.jusqu_a is None or year <= self.jusqu_a)

    @property
    def mesure(self) -> str:
        """Which indicator or action of the sheet it feeds, as printed under its label."""
        if self.indicateur:
            return f"Indicateur {self.indicateur}"
        return f"Action {self.action}" if self.action else ""


@dataclass(frozen=True)
class Question(_Followed):
    """One column of the `reponses` table."""

    colonne: str = ""
    kind: str = "oui_non"
    intitule: str = ""
    modalites: tuple[Modalite, ...] = ()
    # Asked only when `condition` (a yes/no column) is yes, or, for a list, when
    # `condition_code` is among the codes of `condition`.
    condition: str | None = None
    condition_code: str | None = None

    @property
    def nom(self) -> str:
        return self.colonne

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.modalites)

    def label_of(self, code: str) -> str:
        for m in self.modalites:
            if m.code == code:
                return m.libelle
        return code

    def modalite(self, code: str) -> Modalite | None:
        return next((m for m in self.modalites if m.code == code), None)

    def code_asked_in(self, code: str, year: int) -> bool:
        modalite = self.modalite(code)
        return self.asked_in(year) and (modalite is None or modalite.asked_in(year))


@dataclass(frozen=True)
class DerivedIndicator(_Followed):
    """A yes/no indicator computed from a list question rather than asked.

    Yes when the structure cited at least one of `codes`, among the structures that
    answered `source`: e.g. communication « auprès des partenaires » from the channels.
    """

    nom: str = ""
    source: str = ""
    codes: tuple[str, ...] = ()
    kind: str = "derive"


Item = Question | DerivedIndicator


@dataclass(frozen=True)
class Section:
    """A section of the reports: one per indicator of the sheet, then per action."""

    key: str  # anchor: "indicateur-2", "action-3", "autres-questions"
    titre: str
    court: str
    items: tuple[Item, ...]
    action: int | None = None


@dataclass(frozen=True)
class Catalog:
    questions: tuple[Question, ...]
    derived: tuple[DerivedIndicator, ...]
    fichier: str = ""  # as shown in messages

    @cached_property
    def by_column(self) -> dict[str, Question]:
        return {q.colonne: q for q in self.questions}

    @cached_property
    def by_name(self) -> dict[str, Item]:
        return {**self.by_column, **{d.nom: d for d in self.derived}}

    @property
    def yes_no_columns(self) -> tuple[str, ...]:
        return tuple(q.colonne for q in self.questions if q.kind == "oui_non")

    @property
    def list_columns(self) -> tuple[str, ...]:
        return tuple(q.colonne for q in self.questions if q.kind == "liste")

    @property
    def response_columns(self) -> tuple[str, ...]:
        return RESPONSE_KEYS + tuple(q.colonne for q in self.questions)

    @property
    def binary(self) -> tuple[Item, ...]:
        """The yes/no-per-structure indicators: yes/no questions and derived indicators."""
        return tuple(q for q in self.questions if q.kind == "oui_non") + self.derived

    def survey(self) -> tuple[Question, ...]:
        """The questionnaire to send now: retired questions and codes (`jusqu_a`) left out."""
        return tuple(
            replace(q, modalites=tuple(m for m in q.modalites if m.jusqu_a is None))
            for q in self.questions
            if q.jusqu_a is None
        )

    def item(self, name: str) -> Item | None:
        return self.by_name.get(name)

    def label(self, indicateur: str, modalite: str = "") -> str:
        """French label of an indicator row, as printed in tables and charts."""
        if indicateur == RESPONSE_RATE:
            return RESPONSE_RATE_LABEL
        item = self.by_name[indicateur]
        if modalite and isinstance(item, Question):
            return item.label_of(modalite)
        return item.libelle

    def short_label(self, indicateur: str) -> str:
        """The label inside a sentence: `libelle_court`, else the label lowered (acronyms kept)."""
        if indicateur == RESPONSE_RATE:
            return RESPONSE_RATE_SHORT
        item = self.by_name[indicateur]
        if item.libelle_court:
            return item.libelle_court
        label = item.libelle
        return label if label[1:2].isupper() else label[:1].lower() + label[1:]

    def target(self, indicateur: str, year: int, modalite: str = "") -> float | None:
        if indicateur == RESPONSE_RATE:
            return load_config().cible_taux_reponse
        item = self.by_name.get(indicateur)
        if item is None:
            return None
        if modalite:
            found = item.modalite(modalite) if isinstance(item, Question) else None
            target = found.cible if found else None
        else:
            target = item.cible
        return target.at(year) if target else None

    def asked(self, indicateur: str, year: int, modalite: str = "") -> bool:
        """Whether an indicator row exists for `year` (a code added in 2025 has none in 2023)."""
        if indicateur == RESPONSE_RATE:
            return True
        item = self.by_name[indicateur]
        if modalite and isinstance(item, Question):
            return item.code_asked_in(modalite, year)
        return item.asked_in(year)

    def first_year(self, indicateur: str) -> int:
        if indicateur == RESPONSE_RATE:
            return load_config().debut
        return self.by_name[indicateur].depuis

    def direction(self, indicateur: str) -> str:
        item = self.by_name.get(indicateur)
        return item.sens if item else "hausse"

    def sections(self, config: Config | None = None) -> list[Section]:
        """Sections in the sheet's order: each indicator, then each action, then the rest.

        A question goes to its indicator's section, else to its action's, else to
        « Autres questions »; a derived indicator likewise. Empty sections are left out,
        so numbering and tables of contents never show a hole.
        """
        config = config or load_config()
        items: list[Item] = []  # a derived indicator just before the question it comes from
        for question in self.questions:
            items += [d for d in self.derived if d.source == question.colonne]
            items.append(question)
        sections = []
        for indicator in config.indicateurs:
            chosen = tuple(i for i in items if i.indicateur == indicator.numero)
            title = f"Indicateur {indicator.numero} : {indicator.intitule}"
            short = f"Indicateur {indicator.numero} : {indicator.court or indicator.intitule}"
            sections.append(Section(f"indicateur-{indicator.numero}", title, short, chosen))
        for action in config.actions:
            chosen = tuple(i for i in items if not i.indicateur and i.action == action.numero)
            title = f"Action {action.numero} : {action.intitule}"
            short = f"Action {action.numero} : {action.court or action.intitule}"
            sections.append(Section(f"action-{action.numero}", title, short, chosen, action.numero))
        rest = tuple(i for i in items if not i.indicateur and not i.action)
        sections.append(Section("autres-questions", "Autres questions", "Autres questions", rest))
        return [s for s in sections if s.items]

    def section_keys(self, config: Config | None = None) -> list[str]:
        """Every section a report notebook must have a cell for, empty or not."""
        config = config or load_config()
        return (
            [f"indicateur-{i.numero}" for i in config.indicateurs]
            + [f"action-{a.numero}" for a in config.actions]
            + ["autres-questions"]
        )

    def headline(self, config: Config | None = None) -> list[str]:
        """The headline indicators (`cle: true`), in the order of the report's sections."""
        chosen = []
        for section in self.sections(config):
            chosen += [i.nom for i in section.items if i.cle]
        return chosen


# --- reading and checking ----------------------------------------------------------

QUESTION_KEYS = (
    "colonne",
    "type",
    "intitule",
    "libelle",
    "libelle_court",
    "indicateur",
    "action",
    "modalites",
    "condition",
    "condition_code",
    "depuis",
    "jusqu_a",
    "cle",
    "sens",
    "cible",
)
MODALITE_KEYS = ("code", "libelle", "exclusive", "depuis", "jusqu_a", "cible")
DERIVED_KEYS = (
    "nom",
    "libelle",
    "libelle_court",
    "source",
    "au_moins_un_de",
    "indicateur",
    "action",
    "cle",
    "sens",
    "cible",
)


@cache
def load_catalog(path: Path = paths.CATALOG_FILE) -> Catalog:
    """Read and check the catalog; raise ValidationError listing every mistake with its line."""
    config = load_config()
    raw, label = yamlfile.read(path)
    check = yamlfile.Checker(label)
    reader = _Reader(check, config)
    top = check.mapping(raw, 1, "")
    check.keys(top, "", ("questions", "indicateurs_derives"), required=("questions",))
    entries = check.sequence(top.get("questions"), check.line(top, "questions"), "questions")
    questions: list[Question] = []
    for position, raw_entry in enumerate(entries):
        question = reader.question(raw_entry, entries.item_lines[position], position + 1)
        if question is None:
            continue
        if question.colonne in {q.colonne for q in questions}:
            check.error(
                entries.item_lines[position],
                f"questions > {position + 1} > colonne",
                question.colonne,
                "colonne en double : chaque colonne des réponses n'a qu'une entrée",
            )
            continue
        questions.append(question)
    reader.conditions(questions, entries)
    derived_entries = check.sequence(
        top.get("indicateurs_derives"),
        check.line(top, "indicateurs_derives"),
        "indicateurs_derives",
    )
    derived: list[DerivedIndicator] = []
    by_column = {q.colonne: q for q in questions}
    for position, raw_entry in enumerate(derived_entries):
        item = reader.derived(
            raw_entry, derived_entries.item_lines[position], position + 1, by_column
        )
        if item is None:
            continue
        if item.nom in by_column or item.nom in {d.nom for d in derived}:
            check.error(
                derived_entries.item_lines[position],
                f"indicateurs_derives > {position + 1} > nom",
                item.nom,
                "nom déjà pris par une question ou un autre indicateur",
            )
            continue
        derived.append(item)
    if not questions and not check.errors:
        check.error(check.line(top, "questions"), "questions", None, "aucune question")
    check.raise_if_any()
    return Catalog(tuple(questions), tuple(derived), label)


class _Reader:
    """Turns YAML entries into questions, reporting each mistake to the checker."""

    def __init__(self, check: yamlfile.Checker, config: Config) -> None:
        self.check = check
        self.config = config

    def year(self, entry, key: str, where: str) -> int | None:
        return self.check.integer(entry, key, where, None, self.config.debut, self.config.fin)

    def target(self, entry, where: str) -> Target | None:
        value = entry.get("cible")
        if value is None:
            return None
        line = self.check.line(entry, "cible")
        where = f"{where} > cible"
        if isinstance(value, yamlfile.Lined):
            pairs = []
            for year, share in value.items():
                year_line = value.key_lines.get(str(year), line)
                if isinstance(year, bool) or not isinstance(year, int):
                    self.check.error(year_line, where, year, "une année est attendue (ex. 2024)")
                    continue
                if not self.config.debut <= year <= self.config.fin:
                    self.check.error(
                        year_line,
                        where,
                        year,
                        f"année hors de la période ({self.config.debut}-{self.config.fin})",
                    )
                    continue
                checked = self.check.share(share, year_line, f"{where} > {year}")
                if checked is not None:
                    pairs.append((year, checked))
            return Target(tuple(sorted(pairs))) if pairs else None
        share = self.check.share(value, line, where)
        return None if share is None else Target(((0, share),))

    def sheet_number(self, entry, key: str, where: str, known) -> int | None:
        """An indicator or action number that `config.yaml` defines, else None and an error."""
        number = self.check.integer(entry, key, where)
        if number is not None and number not in {item.numero for item in known}:
            numbers = ", ".join(str(item.numero) for item in known)
            label = "indicateur inconnu" if key == "indicateur" else "action inconnue"
            self.check.error(
                self.check.line(entry, key),
                f"{where} > {key}",
                number,
                f"{label} de parameters/config.yaml ({key}s : {numbers})",
            )
            return None
        return number

    def followed(self, entry, where: str, kind: str) -> dict:
        """The keys a question and a derived indicator share, checked."""
        check = self.check
        indicateur = self.sheet_number(entry, "indicateur", where, self.config.indicateurs)
        action = self.sheet_number(entry, "action", where, self.config.actions)
        start = self.config.action(action).debut if action else self.config.debut
        cle = check.boolean(entry, "cle", where)
        if cle and kind not in ("oui_non", "derive"):
            check.error(
                check.line(entry, "cle"),
                f"{where} > cle",
                True,
                "seule une question oui/non ou un indicateur dérivé peut être un chiffre clé",
            )
            cle = False
        cible = self.target(entry, where)
        if cible is not None and kind not in ("oui_non", "derive"):
            check.error(
                check.line(entry, "cible"),
                f"{where} > cible",
                None,
                "une cible se donne à une question oui/non, à un indicateur dérivé ou à une "
                "modalité d'une liste",
            )
            cible = None
        return {
            "libelle": check.text(entry, "libelle", where),
            "libelle_court": check.text(entry, "libelle_court", where),
            "indicateur": indicateur,
            "action": action,
            "depuis": start,
            "jusqu_a": None,
            "cle": cle,
            "sens": check.choice(entry, "sens", where, DIRECTIONS, "hausse"),
            "cible": cible,
        }

    def question(self, raw, line: int, number: int) -> Question | None:
        check = self.check
        where = f"questions > {number}"
        entry = check.mapping(raw, line, where)
        colonne = check.text(entry, "colonne", where)
        if colonne:
            where = f"questions > {colonne}"
        check.keys(entry, where, QUESTION_KEYS, required=("colonne", "type", "intitule", "libelle"))
        if colonne and (not NAME.fullmatch(colonne) or colonne in RESERVED):
            check.error(
                check.line(entry, "colonne"),
                where,
                colonne,
                "nom de colonne invalide : lettres minuscules sans accent, chiffres et « _ » "
                f"seulement, et ni {', '.join(RESERVED)}",
            )
            return None
        kind = check.choice(entry, "type", where, KINDS)
        if not colonne or kind is None:
            return None
        common = self.followed(entry, where, kind)
        depuis = self.year(entry, "depuis", where)
        jusqu_a = self.year(entry, "jusqu_a", where)
        common["depuis"] = depuis if depuis is not None else common["depuis"]
        common["jusqu_a"] = jusqu_a
        if jusqu_a is not None and jusqu_a < common["depuis"]:
            check.error(
                check.line(entry, "jusqu_a"),
                f"{where} > jusqu_a",
                jusqu_a,
                f"dernière année avant la première ({common['depuis']})",
            )
        modalites = self.modalites(entry, where, kind)
        condition = check.text(entry, "condition", where) or None
        condition_code = check.text(entry, "condition_code", where) or None
        return Question(
            **common,
            colonne=colonne,
            kind=kind,
            intitule=check.text(entry, "intitule", where),
            modalites=modalites,
            condition=condition,
            condition_code=condition_code,
        )

    def modalites(self, entry, where: str, kind: str) -> tuple[Modalite, ...]:
        check = self.check
        line = check.line(entry, "modalites")
        if kind != "liste":
            if entry.get("modalites") is not None:
                check.error(
                    line,
                    f"{where} > modalites",
                    None,
                    "seule une question « liste » a des modalités",
                )
            return ()
        items = check.sequence(entry.get("modalites"), line, f"{where} > modalites")
        if not items:
            check.error(
                line or entry.line,
                f"{where} > modalites",
                None,
                "une question « liste » demande une liste de modalités {code, libelle}",
            )
        result: list[Modalite] = []
        for position, raw in enumerate(items):
            at = f"{where} > modalites > {position + 1}"
            item = check.mapping(raw, items.item_lines[position], at)
            check.keys(item, at, MODALITE_KEYS, required=("code", "libelle"))
            code = check.text(item, "code", at)
            if not code:
                continue
            at = f"{where} > modalites > {code}"
            if not NAME.fullmatch(code):
                check.error(
                    check.line(item, "code"),
                    at,
                    code,
                    "code invalide : lettres minuscules sans accent, chiffres et « _ » seulement",
                )
                continue
            if code in {m.code for m in result}:
                check.error(check.line(item, "code"), at, code, "code en double dans cette liste")
                continue
            depuis = self.year(item, "depuis", at)
            jusqu_a = self.year(item, "jusqu_a", at)
            if depuis is not None and jusqu_a is not None and jusqu_a < depuis:
                check.error(
                    check.line(item, "jusqu_a"),
                    f"{at} > jusqu_a",
                    jusqu_a,
                    f"dernière année avant la première ({depuis})",
                )
            result.append(
                Modalite(
                    code,
                    check.text(item, "libelle", at),
                    check.boolean(item, "exclusive", at),
                    depuis,
                    jusqu_a,
                    self.target(item, at),
                )
            )
        return tuple(result)

    def conditions(self, questions: list[Question], entries) -> None:
        """A follow-up depends on a yes/no question, or on a code of a list question."""
        by_column = {q.colonne: q for q in questions}
        for question in questions:
            if not question.condition and not question.condition_code:
                continue
            where = f"questions > {question.colonne} > condition"
            parent = by_column.get(question.condition or "")
            line = _entry_line(entries, question.colonne)
            if question.condition_code:
                if parent is None or parent.kind != "liste":
                    self.check.error(
                        line,
                        where,
                        question.condition,
                        "avec condition_code, condition doit nommer une question « liste »",
                    )
                elif question.condition_code not in parent.codes:
                    self.check.error(
                        line,
                        f"questions > {question.colonne} > condition_code",
                        question.condition_code,
                        f"code absent de {parent.colonne} (codes : {', '.join(parent.codes)})",
                    )
            elif parent is None or parent.kind != "oui_non":
                yes_no = ", ".join(q.colonne for q in questions if q.kind == "oui_non")
                self.check.error(
                    line,
                    where,
                    question.condition,
                    f"condition doit nommer une question oui/non du catalogue ({yes_no})",
                )
            elif parent.colonne == question.colonne:
                self.check.error(
                    line, where, question.condition, "une question ne dépend pas d'elle-même"
                )

    def derived(self, raw, line: int, number: int, by_column) -> DerivedIndicator | None:
        check = self.check
        where = f"indicateurs_derives > {number}"
        entry = check.mapping(raw, line, where)
        nom = check.text(entry, "nom", where)
        if nom:
            where = f"indicateurs_derives > {nom}"
        check.keys(
            entry, where, DERIVED_KEYS, required=("nom", "libelle", "source", "au_moins_un_de")
        )
        if nom and (not NAME.fullmatch(nom) or nom in RESERVED):
            check.error(check.line(entry, "nom"), where, nom, "nom invalide")
            return None
        common = self.followed(entry, where, "derive")
        source = by_column.get(check.text(entry, "source", where))
        if source is None or source.kind != "liste":
            lists = ", ".join(q.colonne for q in by_column.values() if q.kind == "liste")
            check.error(
                check.line(entry, "source"),
                f"{where} > source",
                entry.get("source"),
                f"source doit nommer une question « liste » du catalogue ({lists})",
            )
            return None
        codes_line = check.line(entry, "au_moins_un_de")
        codes = check.sequence(entry.get("au_moins_un_de"), codes_line, f"{where} > au_moins_un_de")
        chosen = []
        for position, code in enumerate(codes):
            if str(code) not in source.codes:
                check.error(
                    codes.item_lines[position],
                    f"{where} > au_moins_un_de",
                    code,
                    f"code absent de {source.colonne} (codes : {', '.join(source.codes)})",
                )
            else:
                chosen.append(str(code))
        if not chosen:
            if codes:
                return None
            check.error(codes_line, f"{where} > au_moins_un_de", None, "au moins un code attendu")
            return None
        if not nom:
            return None
        common["depuis"], common["jusqu_a"] = source.depuis, source.jusqu_a
        return DerivedIndicator(**common, nom=nom, source=source.colonne, codes=tuple(chosen))


def _entry_line(entries, colonne: str) -> int | None:
    for position, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get("colonne") == colonne:
            return entries.item_lines[position]
    return entries.line


def catalog() -> Catalog:
    """The project's catalog (read and checked once per process)."""
    return load_catalog()
