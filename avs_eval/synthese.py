"""What the department's synthesis shows: every territory for one year, one call per block.

The synthesis compares the territories (participation, a heatmap of the headline
figures, maps, net changes) and the whole department (trends by collectivité, CS
against EVS, in and out of the quartiers prioritaires). Like the territory report
(`report`), it shares its data, plan and text blocks with `base_report.Report` and shows
only masked rows and published changes.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from avs_eval import analyse, commentaires, figures, formatting, indicators, suivi, tables
from avs_eval.base_report import Report
from avs_eval.blocs import chart, count_cell, html_table, today
from avs_eval.catalog import RESPONSE_RATE
from avs_eval.evolutions import LEVEL
from avs_eval.formatting import counted
from avs_eval.schema import ALL_PERIMETER, sort_key
from avs_eval.secrecy import MASK


class SynthesisReport(Report):
    """All territories for one year: participation, heatmap, trends, CS against EVS."""

    KIND = "synthese"
    SLUG = commentaires.SYNTHESIS_NAME

    def title(self) -> Markdown:
        return Markdown(
            f"# Évaluation de la fiche action {self.config.code_fiche} — synthèse {self.annee}\n\n"
            f"Métropole de Lyon et département du Rhône · enquête {self.annee} · "
            f"rapport produit le {today()}"
        )

    def _territory_rows(self, indicateur: str, modalite: str = "") -> pd.DataFrame:
        rows = self.context.rows(
            annee=self.annee, niveau="territoire", indicateur=indicateur, modalite=modalite
        )
        order = rows.assign(_c=rows["perimetre"].map(self.context.collectivite_of))
        order = order.sort_values(["_c", "perimetre"], key=lambda s: s.map(sort_key))
        return order.drop(columns="_c")

    def participation_table(self) -> HTML:
        pop = self.context.population
        year = pop[pop["annee"] == self.annee]
        body = []
        for _, row in self._territory_rows(RESPONSE_RATE).iterrows():
            group = year[year["territoire"] == row["perimetre"]]
            body.append(
                [
                    html.escape(row["perimetre"]),
                    html.escape(self.context.collectivite_of[row["perimetre"]]),
                    formatting.count((group["type"] == "CS").sum()),
                    formatting.count((group["type"] == "EVS").sum()),
                    count_cell(row, interne=self.interne),
                    self.share(row, with_interval=False),
                ]
            )
        for niveau in ("collectivite", "departement"):
            for _, row in self.context.rows(
                annee=self.annee, niveau=niveau, indicateur=RESPONSE_RATE
            ).iterrows():
                group = (
                    year
                    if niveau == "departement"
                    else year[year["collectivite"] == row["perimetre"]]
                )
                body.append(
                    [
                        f"<strong>{html.escape(row['perimetre'])}</strong>",
                        "",
                        formatting.count((group["type"] == "CS").sum()),
                        formatting.count((group["type"] == "EVS").sum()),
                        count_cell(row, interne=self.interne),
                        self.share(row, with_interval=False),
                    ]
                )
        return html_table(
            ["Territoire", "Collectivité", "CS", "EVS", "Répondantes", "Taux de réponse"], body
        )

    def carte_participation(self) -> Image:
        from avs_eval import cartes

        return chart(cartes.response_rate_map(self.background, self.context.table, self.annee))

    def cartes(self) -> None:
        """One map per headline figure, one colour scale, secret territories hatched « s »."""
        from avs_eval import cartes

        headline = self.key_indicators()[1:]
        labels = {i: self.label(i) for i in headline}
        figure = cartes.synthesis_maps(
            self.background, self.context.table, self.annee, headline, labels
        )
        display(chart(figure))

    def offre(self) -> HTML:
        """The offer of the whole department (action 4): approvals, openings, closures."""
        return self._offer("departement", ALL_PERIMETER)

    def key_messages(self) -> list[str]:
        ensemble = ("departement", ALL_PERIMETER)
        rate = self.context.row(self.annee, *ensemble, RESPONSE_RATE)
        messages = []
        if analyse.shown(rate):
            messages.append(self._rate_message(rate, "du département"))
        results = []
        for indicateur in self.key_indicators()[1:]:
            row = self.context.row(self.annee, *ensemble, indicateur)
            target = self._target(indicateur)
            if target is not None and analyse.shown(row):
                sens = self.catalog.direction(indicateur)
                results.append((self.catalog.short_label(indicateur), row["part"], target, sens))
        messages += analyse.target_messages(results, "pour l'ensemble du département")
        net = self._net_changes()
        departement = net[net["niveau"] == "departement"]
        changes = [
            analyse.Change(
                self.catalog.short_label(row["indicateur"]),
                row,
                self.catalog.direction(row["indicateur"]),
            )
            for _, row in departement.iterrows()
        ]
        messages += analyse.grouped_changes(
            changes,
            with_points=False,
            where=" pour l'ensemble du département, mesurés sur les mêmes structures depuis "
            "l'année de référence",
        )
        messages.append(self._chance_sentence(len(net[net["niveau"] == "territoire"])))
        return messages[:6]

    def _chance_sentence(self, found: int) -> str:
        """How many net changes among the territories, against what chance alone gives."""
        tests = self._tests_count()
        expected = formatting.count(tests * LEVEL)
        compared = counted(tests, "comparaison publiée", "comparaisons publiées")
        level = formatting.percentage(LEVEL)
        nets = (
            "aucune évolution nette"
            if found == 0
            else counted(found, "évolution nette", "évolutions nettes")
        )
        return (
            f"Au niveau des territoires, {nets} sur {compared} : au seuil de {level}, le "
            f"hasard seul en produirait environ {expected}, même si rien n'avait changé."
        )

    def _net_changes(self) -> pd.DataFrame:
        table = self.context.published_evolutions(self.annee)
        significant = table["significatif"].map(analyse.significant) & ~table["secret"].astype(bool)
        return table[significant]

    def _tests_count(self) -> int:
        table = self.context.published_evolutions(self.annee)
        tested = table[(table["niveau"] == "territoire") & ~table["secret"].astype(bool)]
        return int(tested["p_valeur"].notna().sum())

    def significant_changes(self) -> HTML:
        """Net changes by territory since each question's baseline (published rows only)."""
        net = self._net_changes()
        net = net[net["niveau"].isin(["territoire", "collectivite", "departement"])]
        if net.empty:
            return HTML("<p>Aucune évolution nette cette année.</p>")
        body = []
        for row in net.itertuples():
            change = pd.Series(row._asdict())
            body.append(
                [
                    html.escape(str(row.perimetre)),
                    html.escape(self.label(row.indicateur)),
                    str(int(row.annee_reference)),
                    formatting.no_wrap_html(
                        f"{formatting.percentage(row.part_reference)} → "
                        f"{formatting.percentage(row.part)}"
                    ),
                    formatting.points(row.ecart),
                    html.escape(analyse.verdict(change, self.catalog.direction(row.indicateur))),
                ]
            )
        found = len(net[net["niveau"] == "territoire"])
        note = f"<p><small>{html.escape(self._chance_sentence(found))}</small></p>"
        table = html_table(
            [
                "Périmètre",
                "Indicateur",
                "Référence",
                "Parts",
                "Écart",
                "Verdict (mêmes structures)",
            ],
            body,
        )
        return HTML(table.data + note)

    def qpv_comparison(self) -> HTML:
        """Headline figures in and out of the quartiers prioritaires (published rows only)."""
        body = []
        for indicateur in self.key_indicators():
            cells = [html.escape(self.label(indicateur))]
            for perimetre in (indicators.QPV_IN, indicators.QPV_OUT, ALL_PERIMETER):
                niveau = "departement" if perimetre == ALL_PERIMETER else "qpv"
                row = self.context.row(self.annee, niveau, perimetre, indicateur)
                cells.append(self.share(row, indicateur != RESPONSE_RATE))
            body.append(cells)
        return html_table(["Indicateur", "Structures en QPV", "Hors QPV", ALL_PERIMETER], body)

    def write_indicators(self) -> Markdown | None:
        """The whole department's tables beside the synthesis (published, or internal), and
        the follow-up of the actions (`suivi_actions.csv`), once for the year."""
        if self.output_dir is None:
            return None
        self._write_tables(self.context.table, self.context.evolutions(self.annee))
        follow_up = suivi.table(self.history, self.config, self._follow_up_year)
        tables.write_follow_up(self.output_dir, follow_up)
        return None

    def participation_chart(self) -> Image:
        rows = self._territory_rows(RESPONSE_RATE)
        return chart(figures.participation(rows, f"Taux de réponse par territoire en {self.annee}"))

    def heatmap(self) -> Image:
        columns = self.key_indicators()
        values, masked = {}, {}
        for indicateur in columns:
            rows = self._territory_rows(indicateur).set_index("perimetre")
            values[self.label(indicateur)] = rows["part"]
            masked[self.label(indicateur)] = rows[MASK]
        matrix = pd.DataFrame(values)
        mask = pd.DataFrame(masked).fillna(True).astype(bool)
        title = f"Indicateurs par territoire en {self.annee} (« s » : secret statistique)"
        lower = [self.label(i) for i in columns if self.catalog.direction(i) == "baisse"]
        return chart(figures.heatmap(matrix, mask, title, lower))

    def collectivite_trends(self, indicateur: str) -> Image:
        rows = self.context.rows(indicateur=indicateur, modalite="")
        rows = rows[rows["niveau"].isin(["collectivite", "departement"])]
        rows = rows[rows["annee"] <= self.annee]
        title = f"{self.label(indicateur)} : évolution"
        reference = self.catalog.first_year(indicateur)
        targets = {y: self.catalog.target(indicateur, int(y)) for y in rows["annee"].unique()}
        return chart(figures.trends(rows, title, reference=reference, targets=targets))

    def graphiques_evolutions(self) -> None:
        """One trend chart per headline figure of the catalog (`cle: true`).

        Named apart from `evolutions`, the table of the changes (a DataFrame, for the
        evaluator's working cells), which it would otherwise hide.
        """
        for indicateur in self.key_indicators():
            if indicateur != RESPONSE_RATE:
                display(self.collectivite_trends(indicateur))

    def details(self) -> None:
        """One chart per list question asked in Y, in the catalog's order."""
        for question in self.catalog.questions:
            if question.kind == "liste" and question.asked_in(self.annee):
                display(self.breakdown_chart(question.colonne))

    def type_chart(self) -> Image:
        return self._type_chart("departement", ALL_PERIMETER, "ensemble")

    def breakdown_chart(self, question: str) -> Image:
        q = self.catalog.by_column[question]
        rows = self.context.table
        rows = rows[
            (rows["annee"] == self.annee)
            & (rows["indicateur"] == question)
            & (rows["type"] == ALL_PERIMETER)
            & rows["niveau"].isin(["collectivite", "departement"])
        ]
        labels = {m.code: m.libelle for m in q.modalites}
        codes = self._codes_asked(q)
        return chart(figures.breakdown(rows, f"{q.libelle} en {self.annee}", codes, labels))
