"""What every report shares: its data, its plan and headings, its text blocks.

`Report` is built from a notebook's parameters (`options.ReportOptions`, declared once)
and reads every number from one masked indicator table built once per data set
(`Context`), so the tables, the charts and the sentences of a report can never
disagree, and a masked share can never leak through one of them. The territory report
(`report.TerritoryReport`), the department's synthesis (`synthese.SynthesisReport`) and
the schéma's bilan (`bilan.BilanReport`) are reports of this kind.

Here too is what they all show the same way: the numbered headings and the table of
contents (from `layout`), the evaluator's commentary, the banners, the action sheet,
the implementation of the actions (`suivi`), the method and the provenance.
"""

from __future__ import annotations

import datetime as dt
import html
import platform
import re
from functools import cached_property

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from avs_eval import (
    __version__,
    analyse,
    commentaires,
    figures,
    formatting,
    layout,
    paths,
    secrecy,
    suivi,
    suivi_blocs,
    tables,
)
from avs_eval.blocs import chart, code, html_table, md, share_cell, today
from avs_eval.caches import Recent
from avs_eval.catalog import RESPONSE_RATE, Question, Section, load_catalog
from avs_eval.context import build_context
from avs_eval.errors import UsageError
from avs_eval.formatting import counted
from avs_eval.francais import capitalised, join, lower_first
from avs_eval.options import ReportOptions
from avs_eval.secrecy import SECRET_NOTE
from avs_eval.sources import DataSource

# The timeline of the actions is the department's: the same picture in every report of a
# year. A warm kernel draws it once for all the reports it runs (0.3 to 0.5 s each).
_FRISES: Recent[Image] = Recent(2)


class Report:
    """What every report shares: its data, its plan and headings, its text blocks.

    Built from the notebook's parameters, given as keywords (the names of the
    `parameters` cell, `options.ReportOptions`); every number comes from
    `self.context`, the masked table of the data set (built once per data set and kept).
    """

    def __init__(self, annee: int | None = None, **parameters: object) -> None:
        self.options = ReportOptions(annee=annee, **parameters)
        options = self.options
        self.source = DataSource.from_options(
            options.fichier_structures, options.fichier_reponses, options.classeur
        )
        self.catalog = load_catalog()
        self.context = build_context(self.source, options.min_effectif)
        self.dataset = self.context.dataset
        self.config = self.dataset.config
        self.annee = self.dataset.check_year(options.annee)
        self.min_effectif = self.context.min_effectif  # the threshold applied (config's if 0)
        folder = options.dossier_sortie
        self.output_dir = paths.resolve(folder) if folder else None

    @property
    def interne(self) -> bool:
        """The internal edition (masked figures shown, marked; data-quality details)."""
        return bool(self.options.interne)

    # - layout: numbers, headings, anchors and the table of contents follow the catalog
    KIND = "territoire"
    SLUG = ""

    def _sections(self) -> list[Section]:
        plan = layout.plan(self.KIND, self.catalog, self.config, self.interne)
        return [section for *_, section in plan if section is not None]

    def _layout(self) -> list[tuple[str, str, str]]:
        """(anchor, title, short title) of every section shown in this edition, in order."""
        plan = layout.plan(self.KIND, self.catalog, self.config, self.interne)
        return [(key, title, short) for key, title, short, _ in plan]

    @property
    def commentary(self) -> str:
        """The evaluator's Markdown for this report (`parameters/commentaires/<année>/`)."""
        return commentaires.read(self.annee, self.SLUG)

    def _commentary_part(self, key: str) -> HTML | None:
        """What the evaluator wrote for a section (or, for « À retenir », in general)."""
        titles = {anchor: title for anchor, title, _ in self._layout()}
        found = commentaires.parts(self.commentary, list(titles.values()))
        title = commentaires.GENERAL if key == "a-retenir" else titles.get(key)
        text = found.get(title, "") if title else ""
        return HTML(commentaires.box(text)) if text else None

    def sommaire(self) -> HTML:
        """The table of contents, numbered as the headings are."""
        links = " ·\n".join(
            f'<a href="#{key}">{number}. {html.escape(short)}</a>'
            for number, (key, _, short) in enumerate(self._layout(), start=1)
        )
        return HTML(f'<div class="avs-sommaire"><p><strong>Sommaire</strong> —\n{links}</p></div>')

    def titre(self, key: str) -> None:
        """The numbered heading of a section, then what the evaluator wrote about it.

        Displayed rather than returned (a heading and a commentary are two outputs);
        nothing for a section this edition leaves out (e.g. provenance, internal only).
        """
        heading = self._heading(key)
        if heading is None:
            return
        display(heading)
        if key != "a-retenir":  # its commentary follows the list
            part = self._commentary_part(key)
            if part is not None:
                display(part)

    def _heading(self, key: str) -> Markdown | None:
        """The numbered heading of a section, with the anchor the table of contents links to."""
        for number, (anchor, title, _) in enumerate(self._layout(), start=1):
            if anchor == key:
                return Markdown(f'<a id="{anchor}"></a>\n\n## {number}. {md(title)}')
        if key in layout.all_keys(self.KIND, self.catalog, self.config):
            return None
        known = ", ".join(k for k, _, _ in self._layout())
        raise UsageError(f"section inconnue : « {key} » (sections : {known})")

    @property
    def background(self):
        """The map background of the report's data and options (`cartes.Background`)."""
        # "" = the defaults: the shipped commune shapes, the sample's commune table (sample only)
        options = self.options
        return self.context.background(
            options.fond_de_carte, options.champ_insee or "code", options.communes_territoires
        )

    def _shown(self, key: str) -> bool:
        return any(anchor == key for anchor, _, _ in self._layout())

    def analyse(self) -> None:
        """Kept for notebooks of earlier versions: the commentary is now shown in each
        section it comments (`titre`, `section`, `a_retenir`), so this shows nothing."""

    def method_note(self) -> Markdown:
        """What the figures are and are not, in a few sentences a committee can quote."""
        return Markdown(
            "Chaque part est calculée parmi les structures ayant répondu à la question, avec "
            "son intervalle de confiance à 95 % (méthode de Wilson). Le taux de réponse compte "
            "toutes les structures agréées : ce n'est pas une estimation, il n'a pas "
            "d'intervalle.\n\n"
            "Une évolution est mesurée depuis la première année où la question est posée "
            "(l'année de référence). Elle est aussi testée sur les mêmes structures, celles qui "
            "ont répondu les deux années (test exact de McNemar) : on écarte ainsi l'effet d'un "
            "changement de répondantes. « Hausse nette » ou « baisse nette » signifie que ce "
            "test conclut au seuil de 5 % ; sinon l'évolution est dite « stable ou dans la marge "
            "d'incertitude ». Quand trop peu de structures ont répondu l'une des deux années "
            f"(moins de {analyse.FEW_PAIRED}), le test ne peut guère conclure : l'évolution est "
            "dite « non concluante ». Parmi de nombreux tests, quelques évolutions « nettes » "
            "sont attendues par le seul hasard (environ une sur vingt quand rien ne change).\n\n"
            f"{SECRET_NOTE.format(n=self.min_effectif)}"
        )

    # - tables for the evaluator's own working cells (tag them `brouillon`)
    @property
    def indicateurs(self) -> pd.DataFrame:
        """The masked indicator rows of the report's perimeters, every year (as published).

        Columns of the contract, plus `type` (Ensemble, CS, EVS) and `masque` (a share
        the reports show as « s »). For working cells: tag them `brouillon`.
        """
        return self._perimeter_rows(self.context.table)

    @property
    def evolutions(self) -> pd.DataFrame:
        """Changes since the baseline for the report's perimeters (internal: with counts)."""
        return self._perimeter_rows(self.context.evolutions(self.annee))

    def _perimeter_rows(self, table: pd.DataFrame) -> pd.DataFrame:
        return table

    # - text blocks
    def sample_banner(self) -> HTML | None:
        """The banners a reader must see first: internal edition, fictitious data."""
        banners = []
        if self.interne:
            banners.append(
                '<p class="avs-bandeau avs-interne"><strong>Édition interne — ne pas '
                "diffuser.</strong> Cette édition nomme les structures sans réponse et détaille "
                "la provenance et la qualité des données : elle est réservée à l'équipe "
                "d'évaluation.</p>"
            )
        if self.source.is_sample:
            banners.append(
                '<p class="avs-bandeau"><strong>Données d\'exemple fictives.</strong> Ce rapport '
                "est produit sur l'échantillon intégré à l'outil (structures et réponses "
                "inventées) : il illustre la démarche et ne décrit aucune structure réelle.</p>"
            )
        return HTML("".join(banners)) if banners else None

    def secrecy_note(self) -> Markdown:
        """The « s » note, and the cells of this report the secrecy audit masked too."""
        note = f"*{SECRET_NOTE.format(n=self.min_effectif)}*"
        added = self.audit_note()
        return Markdown(f"{note}\n\n{added}" if added else note)

    AUDIT_NAMED = 8  # cells named in the note, the rest counted

    def audit_note(self) -> str:
        """Which of this report's year-Y cells the audit masked, and why, in French.

        Those cells are not under the threshold: a reader sees « s » where the figure
        seemed publishable. Named (perimeter, indicator): « s » shows them anyway.
        """
        cells = self._perimeter_rows(secrecy.audit_added(self.context.table, self.annee))
        if cells.empty:
            return ""
        names = []
        for perimetre, indicateur, modalite in zip(
            cells["perimetre"], cells["indicateur"], cells["modalite"], strict=True
        ):
            what = self.catalog.short_label(indicateur)
            if modalite:
                what += f" : {lower_first(self.label(indicateur, modalite))}"
            names.append(f"{perimetre} ({what})")
        shown = names[: self.AUDIT_NAMED]
        rest = len(names) - len(shown)
        listed = join(shown + ([counted(rest, "autre")] if rest else []))
        several = len(names) > 1
        return (
            f"Pour qu'aucune part masquée ne puisse être recalculée en croisant tous les "
            f"fichiers publiés (audit du secret), {counted(len(names), 'part')} de plus "
            f"{'sont masquées' if several else 'est masquée'} en {self.annee} : {listed}."
        )

    def action_sheet(self) -> Markdown:
        """The action sheet and where year Y stands in each action's schedule."""
        lines = [
            f"**Fiche action {self.config.code_fiche}** — {self.config.intitule_fiche}",
            "",
            f"**Diagnostic.** {self.config.diagnostic}",
            "",
            f"| Action | Période | Situation en {self.annee} |",
            "|---|---|---|",
        ]
        for action in self.config.actions:
            lines.append(
                f"| {action.numero}. {action.intitule} | {action.debut}-{action.fin} "
                f"| {action.stage(self.annee)} |"
            )
        lines += [
            "",
            "Indicateurs d'évaluation, mesurés chaque année par l'enquête auprès des structures :",
            "",
        ]
        for indicator in self.config.indicateurs:
            lines.append(f"{indicator.numero}. {md(capitalised(indicator.intitule))}")
        return Markdown("\n".join(lines))

    # - the implementation of the actions (the follow-up is the department's, every report)
    @cached_property
    def history(self) -> dict[int, suivi.YearFollowUp]:
        """The evaluator's follow-up of the actions (`parameters/suivi/`), every year of
        the schéma up to the report's (nothing before the schéma starts)."""
        if self.annee < self.config.debut:
            return {}
        return suivi.load_all(self._follow_up_year, config=self.config)

    @property
    def _follow_up_year(self) -> int:
        """The year the follow-up is shown as of: the report's, at most the schéma's last."""
        return min(self.annee, self.config.fin)

    def frise(self) -> Image:
        """The timeline of the actions: each year coloured by its state, the milestones,
        a line at the report's year; its text alternative says all of it."""
        from avs_eval import suivi_frise

        year = self._follow_up_year
        # everything the picture is drawn from, by value: a changed follow-up file or
        # setting draws it again
        shown = repr((self.history, self.config, year))
        return _FRISES.get(
            shown, lambda: chart(suivi_frise.timeline(self.history, self.config, year))
        )

    def actions(self) -> None:
        """One table per action: its state, the year's achievements, its milestones
        (« en retard », « échéance atteinte ») and the indicators that follow it."""
        for action in self.config.actions:
            followed = suivi_blocs.followed_indicators(
                action, self.catalog, self.config, self.context, self.annee
            )
            display(suivi_blocs.action_block(action, self.history, self._follow_up_year, followed))

    def data_day(self) -> str:
        """The data's date: as the batch found it (the same bytes copied again keep their
        date), else the files' modification time."""
        dated = self.context.data_day or dt.date.fromtimestamp(
            max(p.stat().st_mtime for p in self.source.files)
        )
        return formatting.date_short(dated)

    def provenance_line(self) -> Markdown:
        """One line a partner may read: date of the data, tool version, secrecy threshold."""
        day = self.data_day()
        return Markdown(
            f"*Données de l'enquête {self.annee} (fichiers du {day}) · avs-eval {__version__} · "
            f"seuil de secret statistique : {self.min_effectif} structures · rapport du "
            f"{today()}.*"
        )

    def provenance(self, parameters: dict) -> Markdown | None:
        """Which files, which settings, which version: enough to reproduce the report.

        Internal edition only: file fingerprints and settings say nothing to a partner.
        """
        if not self.interne:
            return None
        lines = ["| Fichier | Empreinte SHA-256 |", "|---|---|"]
        for name, digest in self.dataset.hashes.items():
            lines.append(f"| {code(name)} | {code(digest)} |")
        lines += ["", "| Paramètre | Valeur |", "|---|---|"]
        for name, value in parameters.items():
            is_path = name.startswith(("fichier", "dossier", "fond", "communes")) and value
            shown = paths.display_path(final_path(value)) if is_path else value
            lines.append(f"| {code(name)} | {code(shown)} |")
        versions = (
            f"avs-eval {__version__}, Python {platform.python_version()}, pandas {pd.__version__}"
        )
        lines += ["", f"Produit le {today()} avec {versions}."]
        lines += ["", f"{capitalised(secrecy.summary(self.context.table, self.annee))}."]
        return Markdown("\n".join(lines))

    def _target(self, indicateur: str, modalite: str = "") -> float | None:
        return self.catalog.target(indicateur, self.annee, modalite)

    def label(self, indicateur: str, modalite: str = "") -> str:
        return self.catalog.label(indicateur, modalite)

    def key_indicators(self) -> list[str]:
        """The response rate and the catalog's headline figures (`cle: true`) asked in Y."""
        return [RESPONSE_RATE] + [
            name
            for name in self.catalog.headline(self.config)
            if self.catalog.asked(name, self.annee)
        ]

    def _type_chart(self, niveau: str, perimetre: str, name: str) -> Image:
        """CS against EVS for the yes/no indicators of one perimeter in year Y."""
        rows = self.context.perimeter(niveau, perimetre)
        rows = rows[
            (rows["annee"] == self.annee)
            & rows["type"].isin(["CS", "EVS"])
            & (rows["modalite"] == "")
        ]
        order = self.key_indicators()
        labels = {i: self.label(i) for i in order}
        title = f"Centres sociaux et espaces de vie sociale — {name}, {self.annee}"
        return chart(figures.by_type(rows, title, order, labels))

    def _codes_asked(self, question: Question) -> list[str]:
        """The codes of a list offered in Y (a code added later has no row before)."""
        return [m.code for m in question.modalites if m.asked_in(self.annee)]

    def _rate_message(self, rate: pd.Series, where: str) -> str:
        """« En 2025, 27 des 29 structures agréées … » or « les 8 structures … toutes »."""
        answered, approved = int(rate["numerateur"]), int(rate["denominateur"])
        share = formatting.percentage(rate["part"])
        if answered == approved:
            if approved == 1:
                return f"En {self.annee}, la seule structure agréée {where} a répondu à l'enquête."
            return (
                f"En {self.annee}, les {formatting.count(approved)} structures agréées {where} "
                f"ont toutes répondu à l'enquête ({share})."
            )
        return (
            f"En {self.annee}, {formatting.count(answered)} des {formatting.count(approved)} "
            f"structures agréées {where} ont répondu à l'enquête ({share})."
        )

    def key_messages(self) -> list[str]:
        """The sentences of « À retenir » (each report says its own)."""
        raise NotImplementedError

    def a_retenir(self) -> None:
        """3 to 6 sentences on what the figures say, built from published rows only,
        then the general part of the evaluator's analysis."""
        self.titre("a-retenir")
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.key_messages())
        display(HTML(f'<ul class="avs-retenir">{items}</ul>'))
        general = self._commentary_part("a-retenir")
        if general is not None:
            display(general)

    def share(self, row: pd.Series | None, with_interval: bool = True) -> str:
        """A share cell of this edition (the internal one shows masked figures, marked)."""
        return share_cell(row, with_interval, interne=self.interne)

    def _offer(self, niveau: str, perimetre: str) -> HTML:
        """The offer of a perimeter (action 4) up to Y: approvals, openings, closures."""
        years = [y for y in self.config.annees if y <= self.annee]
        counts = tables.offer_counts(self.dataset.structures, years, niveau, perimetre)
        body = [
            [str(year), *map(formatting.count, values)] for year, *values in counts.itertuples()
        ]
        return html_table(["Année", *counts.columns], body)

    def _write_tables(self, table: pd.DataFrame, changes: pd.DataFrame) -> None:
        """The report's tables into its output folder, as its edition allows."""
        tables.write_report_tables(
            self.output_dir, self.context, table, changes, self.annee, self.interne
        )


# The hidden folder a batch writes into (`publication`: `SORTIE/.ANNEE.en-cours-PID`),
# renamed into place once the year is complete: a report shows where its files end up.
_STAGING = re.compile(r"^\.(?P<final>.+)\.en-cours-\d+$")


def final_path(value: str) -> str:
    """A path as it will be once the batch is published: the staging folder renamed."""
    parts = re.split(r"([/\\])", str(value))
    return "".join(_STAGING.sub(r"\g<final>", part) for part in parts)
