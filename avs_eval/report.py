"""What the territory report shows: one call per block, French text, secrecy applied.

A notebook cell calls one method and gets something Jupyter displays (Markdown,
HTML table, PNG chart). `TerritoryReport` is the report of one territory beside its
collectivité and the whole department; what every report shares (data, plan,
headings, text blocks) is `base_report.Report`'s. The blocks are drawn with `blocs`,
the sentences worded by `analyse`; the register's offer comes from `tables`.
"""

from __future__ import annotations

import html
from fractions import Fraction

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from avs_eval import analyse, figures, formatting, indicators, suivi_blocs, tables
from avs_eval.base_report import Report
from avs_eval.blocs import (
    MISSING,
    all_secret,
    chart,
    count_cell,
    html_table,
    md,
    not_for_release,
    today,
    without_secret_columns,
)
from avs_eval.catalog import RESPONSE_RATE, DerivedIndicator, Question, Section
from avs_eval.context import slug
from avs_eval.formatting import counted, plural
from avs_eval.francais import capitalised, join, lower_first
from avs_eval.schema import ALL_PERIMETER, STRUCTURE_TYPES, sort_key
from avs_eval.secrecy import MASK, SECRET_SYMBOL

_EVS = ("espace de vie sociale", "espaces de vie sociale")


class TerritoryReport(Report):
    """The report of one territory for one year, beside its collectivité and Ensemble."""

    def __init__(self, territoire: str, annee: int | None = None, **parameters: object) -> None:
        super().__init__(annee, **parameters)
        self.territoire = self.dataset.check_territory(territoire)
        self.SLUG = slug(territoire)
        self.collectivite = self.context.collectivite_of[territoire]
        self.perimeters = [
            ("territoire", territoire),
            ("collectivite", self.collectivite),
            ("departement", ALL_PERIMETER),
        ]

    def _in_perimeters(self, table: pd.DataFrame) -> pd.Series:
        """Which rows of `table` are of the report's three perimeters."""
        keep = pd.Series(False, index=table.index)
        for niveau, perimetre in self.perimeters:
            keep |= (table["niveau"] == niveau) & (table["perimetre"] == perimetre)
        return keep

    def _perimeter_rows(self, table: pd.DataFrame) -> pd.DataFrame:
        return table[self._in_perimeters(table)]

    @property
    def reponses(self) -> pd.DataFrame:
        """The territory's answers of every year, as validated (one row per structure-year).

        Individual answers: for working cells only (tag them `brouillon`), never published.
        """
        pop = self.context.population
        return pop[(pop["territoire"] == self.territoire) & pop["repondant"]]

    def _change(self, indicateur: str, whole: bool = False) -> pd.Series | None:
        """The published change of the territory's indicator (masked where it must be).

        `whole`: the change with its figures even where secret (flag `secret`), for the
        internal edition's tables; sentences always use the published one.
        """
        if whole:
            table = self.context.evolutions(self.annee)
        else:
            table = self.context.published_evolutions(self.annee)
        rows = table[
            (table["niveau"] == "territoire")
            & (table["perimetre"] == self.territoire)
            & (table["indicateur"] == indicateur)
        ]
        return None if rows.empty else rows.iloc[0]

    # - helpers
    def _row(self, niveau, perimetre, indicateur, modalite="", annee=None, type=ALL_PERIMETER):
        return self.context.row(annee or self.annee, niveau, perimetre, indicateur, modalite, type)

    def _year_rows(self, indicateur: str, modalite: str = "") -> pd.DataFrame:
        rows = [self._row(n, p, indicateur, modalite) for n, p in self.perimeters]
        return pd.DataFrame([r for r in rows if r is not None])

    def _trend_rows(self, indicateur: str, modalite: str = "") -> pd.DataFrame:
        table = self.context.rows(indicateur=indicateur, modalite=modalite)
        return table[self._in_perimeters(table) & (table["annee"] <= self.annee)]

    # - blocks
    def title(self) -> Markdown:
        return Markdown(
            f"# Évaluation de la fiche action {self.config.code_fiche} — {md(self.territoire)}, "
            f"{self.annee}\n\n"
            f"Territoire **{md(self.territoire)}** ({md(self.collectivite)}) · "
            f"enquête {self.annee} · "
            f"rapport produit le {today()}"
        )

    def key_messages(self) -> list[str]:
        here = ("territoire", self.territoire)
        headline = [i for i in self.key_indicators() if i != RESPONSE_RATE]
        rows = {i: self._row(*here, i) for i in headline}
        visible = [i for i in headline if analyse.shown(rows[i])]
        rate = self._row(*here, RESPONSE_RATE)
        messages = []
        if analyse.shown(rate):
            messages.append(self._rate_message(rate, "du territoire"))
        mostly_secret = len(visible) * 2 < len(headline)
        if mostly_secret:
            messages += self._secret_messages(headline)
        messages += self._target_messages(visible, rows)
        if not mostly_secret:  # else the changes are secret too
            messages += self._change_messages(headline)
        messages += self._comparison_messages(visible, rows)
        if len(messages) < 3:
            messages.append(
                "Les parts de ce rapport sont des estimations sur les structures qui ont répondu : "
                "leur intervalle de confiance est donné dans les chiffres clés."
            )
        return messages[:6]

    def _secret_messages(self, headline: list[str]) -> list[str]:
        """A mostly secret territory: why, and the collectivité's figures for reference."""
        pop = self.context.population
        here = pop[(pop["annee"] == self.annee) & (pop["territoire"] == self.territoire)]
        approved = counted(len(here), "structure agréée", "structures agréées")
        messages = [
            f"Le territoire {self.territoire} compte {approved} en {self.annee} : la plupart "
            f"de ses chiffres relèvent du secret statistique (moins de {self.min_effectif} "
            "structures répondantes, ou une part qu'on retrouverait par différence)."
        ]
        theirs = [
            f"{self._named(i)} ({formatting.percentage(row['part'])})"
            for i in headline
            if analyse.shown(row := self._row("collectivite", self.collectivite, i))
        ]
        if theirs:
            messages.append(
                f"Pour référence, dans sa collectivité ({self.collectivite}), en {self.annee} : "
                + join(theirs)
                + "."
            )
        return messages

    def _named(self, indicateur: str) -> str:
        """An indicator inside a sentence: its short label (« permanence d'un partenaire »)."""
        return self.catalog.short_label(indicateur)

    def _target_messages(self, visible: list[str], rows: dict) -> list[str]:
        results = [
            (self._named(i), rows[i]["part"], self._target(i), self.catalog.direction(i))
            for i in visible
            if self._target(i) is not None
        ]
        return analyse.target_messages(results, f"en {self.annee}")

    def _change_messages(self, headline: list[str]) -> list[str]:
        net, inconclusive = [], []
        for indicateur in headline:
            change = self._change(indicateur)
            if change is None or change["secret"] or pd.isna(change["ecart"]):
                continue
            if analyse.significant(change["significatif"]):
                net.append(
                    analyse.Change(
                        self._named(indicateur), change, self.catalog.direction(indicateur)
                    )
                )
            elif self._few(indicateur) and abs(float(change["ecart"])) >= analyse.NOTICEABLE:
                inconclusive.append((indicateur, change))
        messages = analyse.change_messages(net)
        for indicateur, change in inconclusive[:1]:
            row = self._row("territoire", self.territoire, indicateur)
            messages.append(
                analyse.inconclusive_message(
                    self._named(indicateur), change, int(row["denominateur"])
                )
            )
        return messages

    def _few(self, indicateur: str) -> bool:
        """Too few respondents, in one of the two years, for the paired test to conclude.

        Judged on the published numbers of respondents (the paired count is not published).
        """
        reference = self._reference_year(indicateur)
        counts = []
        for annee in (reference, self.annee):
            row = self._row("territoire", self.territoire, indicateur, annee=annee)
            if row is None or pd.isna(row["part"]) or (row[MASK] and not self.interne):
                return False
            counts.append(int(row["denominateur"]))
        return min(counts) < analyse.FEW_PAIRED

    def _comparison_messages(self, visible: list[str], rows: dict) -> list[str]:
        pairs = [
            (self._named(i), rows[i], self._row("collectivite", self.collectivite, i))
            for i in visible
        ]
        return analyse.gap_messages(pairs, self.collectivite)

    def participation(self) -> HTML:
        """Population and respondents by type; counts are masked with the rate they reveal."""
        pop = self.context.population
        here = pop[(pop["annee"] == self.annee) & (pop["territoire"] == self.territoire)]
        body = []
        for kind in ("CS", "EVS", ALL_PERIMETER):
            group = here if kind == ALL_PERIMETER else here[here["type"] == kind]
            row = self._row("territoire", self.territoire, RESPONSE_RATE, type=kind)
            label = STRUCTURE_TYPES.labels.get(kind, "Ensemble des structures")
            if row is None:
                body.append([label, formatting.count(len(group)), "0", MISSING])
                continue
            respondents = count_cell(row, interne=self.interne)
            rate = self.share(row, with_interval=False)  # a count of everyone, not an estimate
            body.append([html.escape(label), formatting.count(len(group)), respondents, rate])
        if all_secret([cells[2:] for cells in body], first=0):
            names = {"CS": ("centre social", "centres sociaux"), "EVS": _EVS}
            kinds = [
                counted(int((here["type"] == kind).sum()), *names[kind])
                for kind in ("CS", "EVS")
                if (here["type"] == kind).any()
            ]
            return Markdown(
                f"Le territoire compte "
                f"{counted(len(here), 'structure agréée', 'structures agréées')} en "
                f"{self.annee} ({join(kinds)}) : le nombre de répondantes et le taux de réponse "
                "relèvent du secret statistique."
            )
        return html_table(
            ["Structures", f"Agréées en {self.annee}", "Répondantes", "Taux de réponse"], body
        )

    def offre(self) -> HTML:
        """The offer (action 4): approved structures, openings and closures, year by year."""
        return self._offer("territoire", self.territoire)

    def actions(self) -> None:
        """The actions in one table (state, milestones done and late): the follow-up is
        the department's, each action's own table is in the synthesis."""
        display(suivi_blocs.summary_table(self.config, self.history, self._follow_up_year))

    def carte_situation(self) -> None:
        """Where the territory lies, its communes and its structures (CS and EVS)."""
        from avs_eval import carte_situation as situation

        background = self.background
        display(chart(situation.locator_map(background, self.dataset, self.territoire, self.annee)))
        communes = background.communes_of(self.territoire)
        if communes:
            display(Markdown(f"Communes du territoire : {md(', '.join(communes))}."))

    def qpv_split(self) -> HTML | None:
        """The territory's structures in and out of a QPV, where secrecy allows.

        The split is protected as a group with the territory (in + out + blank =
        territory), like the department's: a row whose two parts are masked is left out,
        and the table only when nothing of it can be shown.
        """
        body = []
        for indicateur in self.key_indicators():
            cells = [html.escape(self.label(indicateur))]
            rows = [
                self._row(indicators.TERRITORY_QPV, self.territoire + indicators.QPV_SEPARATOR + g,
                          indicateur)
                for g in (indicators.QPV_IN, indicators.QPV_OUT)
            ]  # fmt: skip
            if not any(analyse.shown(r) for r in rows) and not self.interne:
                continue
            cells += [self.share(r, indicateur != RESPONSE_RATE) for r in rows]
            cells.append(self.share(self._row("territoire", self.territoire, indicateur), False))
            body.append(cells)
        if not body:
            return None
        header = ["Indicateur", "Structures en QPV", "Hors QPV", f"{self.territoire} (toutes)"]
        intro = (
            "<p><strong>Politique de la ville.</strong> Les chiffres clés des structures du "
            "territoire situées en quartier prioritaire de la politique de la ville (QPV) et "
            "des autres, là où le secret statistique permet de les publier.</p>"
        )
        return HTML(intro + html_table(header, body).data)

    def non_respondents(self) -> Markdown | HTML:
        """Who did not answer: named in the internal edition, counted in the partners' one
        (where the count does not reveal a masked response rate)."""
        row = self._row("territoire", self.territoire, RESPONSE_RATE)
        if row is not None and row[MASK] and not self.interne:
            return Markdown(
                "La liste des structures sans réponse n'est pas publiée pour ce territoire : "
                "avec moins de structures que le seuil de secret, elle révélerait le taux de "
                "réponse."
            )
        pop = self.context.population
        missing = pop[
            (pop["annee"] == self.annee)
            & (pop["territoire"] == self.territoire)
            & ~pop["repondant"]
        ].sort_values("nom", key=lambda s: s.map(sort_key))
        if missing.empty:
            return Markdown(f"Toutes les structures agréées en {self.annee} ont répondu.")
        who = counted(len(missing), "structure agréée", "structures agréées")
        verb = plural(len(missing), "n'a pas répondu", "n'ont pas répondu")
        if not self.interne:  # who did not answer is for the evaluation team
            return Markdown(f"{capitalised(who)} {verb} en {self.annee}.")
        items = "".join(
            f"<li>{html.escape(str(r.nom))} ({html.escape(str(r.commune))}, {r.type})</li>"
            for r in missing.itertuples()
        )
        return HTML(
            f"<p>{html.escape(capitalised(who))} {verb} en {self.annee} :</p><ul>{items}</ul>"
        )

    def key_figures(self) -> HTML:
        """The four indicators and the action indicators, three perimeters, trend, target."""
        header = [
            "Indicateur",
            self.territoire,
            self.collectivite,
            ALL_PERIMETER,
            f"Évolution ({self.territoire})",
            "Cible",
            f"Écart à la cible ({self.territoire})",
        ]
        body = []
        for indicateur in self.key_indicators():
            label = html.escape(self.label(indicateur))
            cells = [f"<strong>{label}</strong><br><small>{self._measure(indicateur)}</small>"]
            interval = indicateur != RESPONSE_RATE
            for niveau, perimetre in self.perimeters:
                cells.append(self.share(self._row(niveau, perimetre, indicateur), interval))
            cells.append(self._evolution(indicateur))
            target = self._target(indicateur)
            cells.append(formatting.percentage(target))
            cells.append(self._gap(indicateur, target))
            body.append(cells)
        dropped = []
        if not self.interne:
            header, body, dropped = without_secret_columns(header, body)
        table = html_table(header, body)
        if not dropped:
            return table
        note = (
            f"<p>Les chiffres du territoire {html.escape(self.territoire)} relèvent du secret "
            "statistique : le tableau donne, pour référence, ceux de sa collectivité et de "
            "l'ensemble.</p>"
        )
        return HTML(note + table.data)

    def _reference_year(self, indicateur: str) -> int:
        """The baseline of a change: the first year the question was asked."""
        return self.catalog.first_year(indicateur)

    def _evolution(self, indicateur: str) -> str:
        """The gap in points since the baseline, and the paired test's plain verdict."""
        reference = self._reference_year(indicateur)
        if self.annee <= reference:
            return "première année"
        if indicateur == RESPONSE_RATE:  # a census: no test, the gap is the change
            start = self._row("territoire", self.territoire, indicateur, annee=reference)
            end = self._row("territoire", self.territoire, indicateur)
            if start is None or end is None or pd.isna(start["part"]) or pd.isna(end["part"]):
                return SECRET_SYMBOL if start is not None and end is not None else MISSING
            gap = formatting.points(end["part"] - start["part"])
            if start[MASK] or end[MASK]:
                return (
                    not_for_release(gap, f"depuis {reference}") if self.interne else SECRET_SYMBOL
                )
            return f"{gap}<br><small>depuis {reference}</small>"
        change = self._change(indicateur, whole=self.interne)
        if change is None or (pd.isna(change["part_reference"]) and not change["secret"]):
            return MISSING
        if change["secret"] and not self.interne:
            return SECRET_SYMBOL
        if pd.isna(change["ecart"]):
            return MISSING
        few = self._few(indicateur)
        verdict = analyse.verdict(change, self.catalog.direction(indicateur), few)
        gap = formatting.points(float(change["ecart"]))
        if change["secret"]:
            return not_for_release(gap, f"depuis {reference} · {verdict}")
        return f"{gap}<br><small>depuis {reference} · {html.escape(verdict)}</small>"

    def _gap(self, indicateur: str, target: float | None) -> str:
        if target is None:
            return MISSING
        row = self._row("territoire", self.territoire, indicateur)
        if row is None or pd.isna(row["part"]):
            return MISSING
        if row[MASK] and not self.interne:
            return SECRET_SYMBOL
        # the gap a reader can check: shown share minus shown target
        shown = formatting.percent_value(row["part"]) - formatting.percent_value(target)
        gap = formatting.points(Fraction(shown, 100))
        return not_for_release(gap) if row[MASK] else gap

    def question_chart(self, indicateur: str) -> Image | Markdown:
        """The territory beside its collectivité and the department, this year and before.

        In the partners' edition, a figure masked for the territory is given in one
        sentence with its collectivité's and the department's, not as a chart of « s ».
        """
        row = self._row("territoire", self.territoire, indicateur)
        if not self.interne and row is not None and not analyse.shown(row):
            return Markdown(self._reference_sentence(indicateur))
        return chart(
            figures.comparison(
                self._year_rows(indicateur),
                self._trend_rows(indicateur),
                self.label(indicateur),
                self.annee,
                self._target(indicateur),
                self._reference_year(indicateur),
            )
        )

    def _reference_sentence(self, indicateur: str) -> str:
        theirs = [
            f"{formatting.percentage(row['part'])} {where}"
            for (niveau, perimetre), where in zip(
                self.perimeters[1:],
                [f"dans sa collectivité ({md(self.collectivite)})", "pour l'ensemble"],
                strict=True,
            )
            if analyse.shown(row := self._row(niveau, perimetre, indicateur))
        ]
        text = (
            f"**{md(self.label(indicateur))}** : secret statistique pour le territoire en "
            f"{self.annee}"
        )
        return text + (f" ; {join(theirs)}." if theirs else ".")

    def breakdown_chart(self, question: str) -> Image:
        q = self.catalog.by_column[question]
        rows = self.context.rows(annee=self.annee, indicateur=question)
        keep = self._in_perimeters(rows)
        codes = self._codes_asked(q)
        labels = {m.code: m.libelle for m in q.modalites}
        title = f"{q.libelle} en {self.annee} (parmi les structures ayant coché au moins un choix)"
        return chart(figures.breakdown(rows[keep], title, codes, labels))

    def breakdown_table(self, question: str) -> HTML | Markdown:
        """Each choice of a list question, in the three perimeters.

        A perimeter whose every share is secret is left out of the table (a column of
        « s » tells nothing) and said in a sentence; so is the whole table.
        """
        q = self.catalog.by_column[question]
        columns = []
        for niveau, perimetre in self.perimeters:
            cells = [
                self.share(self._row(niveau, perimetre, question, m.code), False)
                for m in q.modalites
                if m.asked_in(self.annee)
            ]
            columns.append((perimetre, cells))
        kept = [(name, cells) for name, cells in columns if not all_secret([cells], first=0)]
        if not kept:
            return Markdown(self._all_secret_sentence(q.libelle))
        labels = [html.escape(m.libelle) for m in q.modalites if m.asked_in(self.annee)]
        body = [
            [label, *cells] for label, *cells in zip(labels, *(c for _, c in kept), strict=True)
        ]
        table = html_table([q.libelle, *(name for name, _ in kept)], body)
        if len(kept) == len(columns):
            return table
        note = (
            f"<p>Les parts du territoire {html.escape(self.territoire)} relèvent du secret "
            "statistique : le tableau donne celles de la collectivité et de l'ensemble, pour "
            "référence.</p>"
        )
        return HTML(note + table.data)

    def _all_secret_sentence(self, what: str) -> str:
        return (
            f"« {md(what)} » : toutes les parts relèvent du secret statistique pour ce "
            "territoire et sa collectivité ; le tableau n'est pas reproduit."
        )

    def _mean_codes(self, question: Question) -> str:
        """How many choices a structure cites on average, where secrecy allows it."""
        rows = {}
        for niveau, perimetre in self.perimeters[:2]:
            row = self._row(niveau, perimetre, question.colonne, question.codes[0])
            if not analyse.shown(row):
                return ""
            rows[perimetre] = row
        pop = self.context.population
        year = pop[(pop["annee"] == self.annee) & pop["repondant"]]
        means = [tables.mean_choices(year, question, *where) for where in self.perimeters[:2]]
        shown = [formatting.decimal_comma(m, 1) for m in means]
        return (
            f"En moyenne, une structure du territoire cite {shown[0]} choix parmi les "
            f"{md(self.catalog.short_label(question.colonne))}, contre {shown[1]} dans la "
            "collectivité."
        )

    def _measure(self, indicateur: str) -> str:
        if indicateur == RESPONSE_RATE:
            return "structures répondantes / structures agréées"
        return html.escape(self.catalog.item(indicateur).mesure)

    def type_chart(self, niveau: str = "territoire") -> Image | Markdown:
        """CS against EVS in one of the report's perimeters; a sentence when all is secret."""
        perimetre = dict(self.perimeters)[niveau]
        rows = self.context.perimeter(niveau, perimetre)
        rows = rows[
            (rows["annee"] == self.annee)
            & rows["type"].isin(["CS", "EVS"])
            & (rows["modalite"] == "")
            & rows["indicateur"].isin(self.key_indicators())
        ]
        if not self.interne and not rows.empty and rows[MASK].all():
            return Markdown(
                f"Par type de structure, les parts du territoire {md(perimetre)} relèvent "
                "toutes du secret statistique."
            )
        return self._type_chart(niveau, perimetre, perimetre)

    def verbatims(self, question: str) -> HTML | None:
        """Free-text answers of the territory's structures, only with `verbatims` on."""
        if not self.options.verbatims:
            return None
        q = self.catalog.by_column[question]
        responses = self.dataset.responses
        ids = self.context.population
        ids = ids[(ids["territoire"] == self.territoire) & (ids["annee"] == self.annee)]
        texts = responses[
            responses["structure_id"].isin(ids["structure_id"])
            & (responses["annee"] == self.annee)
            & (responses[q.colonne].fillna("") != "")
        ][q.colonne]
        if texts.empty:
            return HTML(f"<p>{html.escape(q.libelle)} : aucune réponse cette année.</p>")
        items = "".join(f"<li>{html.escape(str(t))}</li>" for t in sorted(texts, key=sort_key))
        return HTML(f"<p>{html.escape(q.libelle)} :</p><ul>{items}</ul>")

    def section(self, key: str) -> None:
        """A section of the catalog: its heading, then each question's chart or table.

        Displayed rather than returned, since a section shows several outputs; an empty
        section (no question attached to it) shows nothing and has no number.
        """
        found = next((s for s in self._sections() if s.key == key), None)
        if found is None:
            if key not in self.catalog.section_keys(self.config):
                self.titre(key)  # raises, naming the known sections
            return
        display(self._heading(key))
        intro = self._section_intro(found)
        if intro:
            display(Markdown(intro))
        part = self._commentary_part(key)
        if part is not None:
            display(part)
        secret = [i for i in found.items if self._secret_here(i)]
        if secret:  # one table of reference figures rather than charts of « s »
            display(self._reference_table(secret))
        for item in found.items:
            if item not in secret:
                for block in self._blocks(item):
                    display(block)

    def _secret_here(self, item) -> bool:
        """A yes/no figure the partners' edition masks for the territory this year.

        Its chart would show a bar of « s »: the section gives the collectivité's and the
        whole department's figures in one table instead (a short report for a mostly
        secret territory). The internal edition keeps its charts.
        """
        if self.interne or not item.asked_in(self.annee):
            return False
        if not isinstance(item, DerivedIndicator) and item.kind != "oui_non":
            return False
        return not analyse.shown(self._row("territoire", self.territoire, item.nom))

    def _list_secret_here(self, question: Question) -> bool:
        """Every choice of a list masked for the territory (partners' edition)."""
        if self.interne:
            return False
        rows = [
            self._row("territoire", self.territoire, question.colonne, m.code)
            for m in question.modalites
            if m.asked_in(self.annee)
        ]
        return all(r is not None and not analyse.shown(r) for r in rows)

    def _reference_table(self, items: list) -> HTML:
        """The masked yes/no figures of a section, for the collectivité and the department."""
        body = [
            [
                html.escape(item.libelle),
                *(self.share(self._row(n, p, item.nom)) for n, p in self.perimeters[1:]),
            ]
            for item in items
        ]
        names = [perimetre for _, perimetre in self.perimeters[1:]]
        sentence = (
            f"<p>{html.escape(plural(len(items), 'Cette part relève', 'Ces parts relèvent'))} "
            f"du secret statistique pour le territoire {html.escape(self.territoire)} : voici, "
            "pour référence, celles de sa collectivité et de l'ensemble.</p>"
        )
        return HTML(sentence + html_table(["Indicateur", *names], body).data)

    def _section_intro(self, section: Section) -> str:
        if section.action is None:
            return ""
        action = self.config.action(section.action)
        late = [i for i in section.items if i.depuis > self.config.debut]
        text = (
            f"Action prévue de {action.debut} à {action.fin} ; en {self.annee} : "
            f"{action.stage(self.annee)}."
        )
        if late:
            since = sorted({i.depuis for i in late})
            text += f" Ses questions sont posées depuis {', '.join(map(str, since))}."
        return text

    def _blocks(self, item) -> list:
        """What a question shows in its section, by its type, in year Y."""
        if not item.asked_in(self.annee):
            return []
        if isinstance(item, DerivedIndicator):
            source = self.catalog.by_column[item.source]
            cited = join([f"« {lower_first(source.label_of(c))} »" for c in item.codes], "ou")
            return [
                Markdown(
                    f"**{md(item.libelle)}** : part des structures citant {md(cited)}, parmi "
                    f"celles qui ont répondu à la question « {md(source.libelle)} »."
                ),
                self.question_chart(item.nom),
            ]
        if item.kind == "oui_non":
            return [self.question_chart(item.colonne)]
        if item.kind == "liste":
            if self._list_secret_here(item):  # a table of the others, not a chart of « s »
                return [self.breakdown_table(item.colonne)]
            blocks = [self.breakdown_chart(item.colonne)]
            if not item.condition:
                blocks.append(self.breakdown_table(item.colonne))
                mean = self._mean_codes(item)
                if mean:
                    blocks.append(Markdown(mean))
            return blocks
        shown = self.verbatims(item.colonne)
        return [shown] if shown is not None else []

    def data_quality(self) -> HTML | None:
        """Blank items per question (internal edition: data-quality details)."""
        if not self.interne:
            return None
        pop = self.context.population
        here = pop[(pop["annee"] == self.annee) & (pop["territoire"] == self.territoire)]
        respondents = here[here["repondant"]]
        body = []
        for question in self.catalog.questions:
            if question.kind == "texte" or not question.asked_in(self.annee):
                continue
            values = respondents[question.colonne]
            blank = values.isna() | (values.astype(str) == "")
            body.append([html.escape(question.libelle), str(int(blank.sum()))])
        return html_table(
            ["Question", f"Réponses laissées vides ({len(respondents)} répondantes)"], body
        )

    def warnings_summary(self) -> Markdown | None:
        if not self.interne:
            return None
        count = len(self.dataset.warnings)
        if not count:
            return Markdown("La validation des données n'a relevé aucune incohérence.")
        kinds = pd.Series([w.message.split(":")[0] for w in self.dataset.warnings]).value_counts()
        found = counted(count, "incohérence non bloquante", "incohérences non bloquantes")
        lines = [
            f"La validation a relevé {found} dans l'ensemble des données (détail pour "
            "l'équipe : `avs-eval valider`) :",
            "",
        ]
        lines += [f"- {n} × {md(kind)}" for kind, n in kinds.items()]
        return Markdown("\n".join(lines))

    def write_indicators(self) -> Markdown | None:
        """The report's tables beside it: indicateurs.csv, evolutions.csv, indicateurs.xlsx.

        The partner edition writes published tables: every figure the report shows as
        « s » is empty (with `secret` = True) and no paired count is given. The
        internal edition writes them whole, with the flags.
        """
        if self.output_dir is None:
            return None
        self._write_tables(self.indicateurs, self.evolutions)
        if not self.interne:
            return None
        return Markdown(
            "Tables écrites à côté du rapport : `indicateurs.csv`, `evolutions.csv`, "
            "`indicateurs.xlsx` (édition interne : chiffres sous le secret compris, avec "
            "`secret=True`)."
        )
