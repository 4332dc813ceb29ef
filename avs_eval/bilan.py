"""The schéma's bilan: one report of the whole period, for the committee that closes it.

A yearly report answers « where are we this year? »; the bilan answers « what did the
schéma change, and what did its actions do? ». So it is built around the period, not
around a year: each headline figure's trajectory with its yearly targets, the change
from the first year a question was asked to the last year of the period tested on the
same structures, the territories' changes side by side, participation and offer year by
year, the actions over the years, and the evaluator's conclusions.

It is a `base_report.Report` (same data, same masked table, same blocks and sentences) over
a period. Secrecy is the yearly reports' own, year by year: every share comes from the
masked table, every change from the published changes, and nothing is pooled over the
years, so the bilan shows no figure that a yearly report of the same data would mask.

Written beside it (`write_tables`): `trajectoires.csv` (the yearly published rows of the
period, with each row's target and whether it is reached), `evolutions.csv` (the changes
over the period), `suivi_actions.csv` and `bilan.xlsx`.
"""

from __future__ import annotations

import html
import io

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from avs_eval import (
    analyse,
    bilan_lot,
    commentaires,
    evolutions,
    figures,
    formatting,
    indicators,
    secrecy,
    suivi,
    suivi_blocs,
    tables,
    tableur,
)
from avs_eval.base_report import Report
from avs_eval.blocs import NBSP, chart, html_table, md, share_cell, today
from avs_eval.catalog import RESPONSE_RATE
from avs_eval.errors import UsageError
from avs_eval.formatting import counted
from avs_eval.output import write_atomic
from avs_eval.schema import ALL_PERIMETER, LEVELS, sort_key
from avs_eval.secrecy import MASK, SECRET_NOTE, SECRET_SYMBOL

__all__ = ["TRAJECTORY_COLUMNS", "BilanReport", "trajectories"]

# the published indicator columns, with the year's target and whether it is reached
TRAJECTORY_COLUMNS: list[str] = [*indicators.COLUMNS[:-1], "cible", "atteinte", "secret"]
# (anchor, title, internal edition only)
SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("a-retenir", "À retenir du schéma", False),
    ("fiche-action", "La fiche action et ses échéances", False),
    ("actions", "Mise en œuvre des actions", False),
    ("indicateurs", "Trajectoires des indicateurs", False),
    ("territoires", "Évolutions par territoire", False),
    ("participation", "Participation à l'enquête et offre", False),
    ("politique-ville", "Quartiers prioritaires de la politique de la ville", False),
    ("conclusions", "Conclusions et recommandations", False),
    ("methode", "Méthode", False),
    ("provenance", "Provenance", True),
)
CONCLUSIONS = "conclusions"
STYLE = """<style>
.avs-bilan-hausse { background: #e3f1dc; }
.avs-bilan-baisse { background: #fbe3e0; }
table.avs-action { width: 100%; }
table.avs-action caption { text-align: left; font-weight: 600; padding: .3em 0; }
table.avs-action th { width: 24%; text-align: left; vertical-align: top; background: #f6f8fa; }
table.avs-action td ul { margin: 0; padding-left: 1.2em; }
</style>"""


def trajectories(
    table: pd.DataFrame, catalog, years: list[int], interne: bool = False
) -> pd.DataFrame:
    """`trajectoires.csv`: the contract's levels of each year of `years`, with targets.

    The rows are those a yearly report's tables hold for the same data (the masked
    table's, all structures), published (masked figures emptied, `secret` = True) unless
    `interne`; `cible` is the catalog's target of the row's year, `atteinte` whether the
    published share reaches it (empty when either is missing).
    """
    rows = table[
        (table["type"] == ALL_PERIMETER) & table["annee"].isin(years) & table["niveau"].isin(LEVELS)
    ]
    shown = rows if interne else secrecy.published(rows)
    targets, reached = [], []
    for row in shown.itertuples(index=False):
        target = catalog.target(row.indicateur, int(row.annee), row.modalite)
        targets.append(target)
        part = row.part
        if target is None or part is None or pd.isna(part) or (not interne and row.secret):
            reached.append(None)
        else:
            sens = catalog.direction(row.indicateur)
            reached.append(analyse.target_reached(float(part), target, sens))
    out = shown.assign(
        cible=pd.array(targets, dtype="Float64"), atteinte=pd.array(reached, dtype="boolean")
    )
    return out[TRAJECTORY_COLUMNS].reset_index(drop=True)


def trajectories_csv(table: pd.DataFrame) -> str:
    """The French Excel form of the yearly published tables (tableur: BOM, `;`, decimal
    comma, oui / non), with exactly the columns of trajectoires.csv."""
    return tableur.french_csv(table[TRAJECTORY_COLUMNS], tableur.SHARE_COLUMNS | {"cible"})


class BilanReport(Report):
    """The bilan of the schéma over `debut`-`fin` (0: the default period, see bilan_lot)."""

    KIND = "bilan"
    SLUG = "bilan"

    def __init__(self, debut: int = 0, fin: int = 0, **parameters: object) -> None:
        """`parameters`: the data options of a report (`options.ReportOptions`, by keyword);
        the year is the period's last, set once the period is known."""
        super().__init__(None, **parameters)
        self.debut, self.fin = bilan_lot.period(
            self.config, self.context.years, debut or None, fin or None
        )
        self.annee = self.fin
        self.years = [y for y in self.context.years if self.debut <= y <= self.fin]

    # - plan: its own sections, numbered as the yearly reports' are
    def _layout(self) -> list[tuple[str, str, str]]:
        return [
            (key, title, title)
            for key, title, internal in SECTIONS
            if (self.interne or not internal)
            and (key != CONCLUSIONS or commentaires.has_content(self.commentary))
        ]

    def titre(self, key: str) -> Markdown | None:
        if key not in {k for k, _, _ in SECTIONS}:
            known = ", ".join(k for k, _, _ in SECTIONS)
            raise UsageError(f"section inconnue : « {key} » (sections : {known})")
        if not self._shown(key):
            return None
        return super().titre(key)

    @property
    def commentary(self) -> str:
        path = bilan_lot.commentary_path()
        return path.read_text(encoding="utf-8-sig") if path.is_file() else ""

    @property
    def final(self) -> bool:
        """Whether the period reaches the schéma's last year (else an interim bilan)."""
        return self.fin >= self.config.fin

    # - the numbers of the period
    def changes(self) -> pd.DataFrame:
        """The changes over the period, whole (internal): `annee` = fin, per question its
        first year in the period as reference; the contract's levels only."""
        cached = getattr(self, "_changes", None)
        if cached is not None:
            return cached
        table = self.context.evolutions(self.fin)
        early = [i.nom for i in self.catalog.binary if i.depuis < self.debut]
        if early:  # asked before the period: measured from the period's first year
            since = evolutions.compute(
                self.dataset,
                self.fin,
                reference=self.debut,
                min_effectif=self.min_effectif,
                table=self.context.table,
            )
            table = pd.concat(
                [
                    table[~table["indicateur"].isin(early)],
                    since[since["indicateur"].isin(early)],
                ],
                ignore_index=True,
            )
        self._changes = table[table["niveau"].isin(LEVELS)].reset_index(drop=True)
        return self._changes

    def published_changes(self) -> pd.DataFrame:
        """The same as partners read them: masked where a share is, no paired counts."""
        cached = getattr(self, "_published", None)
        if cached is None:
            cached = self._published = evolutions.published(self.changes(), self.context.table)
        return cached

    def _change(self, niveau: str, perimetre: str, indicateur: str) -> pd.Series | None:
        table = self.published_changes()
        rows = table[
            (table["niveau"] == niveau)
            & (table["perimetre"] == perimetre)
            & (table["indicateur"] == indicateur)
        ]
        return None if rows.empty else rows.iloc[0]

    def _dep(self, indicateur: str, annee: int) -> pd.Series | None:
        return self.context.row(annee, "departement", ALL_PERIMETER, indicateur)

    def key_indicators(self) -> list[str]:
        """The headline figures asked in at least two years of the period."""
        return [
            name
            for name in self.catalog.headline(self.config)
            if sum(self.catalog.asked(name, y) for y in self.years) >= 2
        ]

    @property
    def trajectoires(self) -> pd.DataFrame:
        """`trajectoires.csv` of this edition (published, or whole in the internal one)."""
        return trajectories(self.context.table, self.catalog, self.years, self.interne)

    # - blocks
    def title(self) -> Markdown:
        kind = "Bilan" if self.final else "Bilan intermédiaire"
        span = f"{self.config.debut}-{self.config.fin}"
        lead = (
            f"Enquêtes {self.debut} à {self.fin}, dernière année du schéma"
            if self.final
            else f"Enquêtes {self.debut} à {self.fin} ; le schéma court jusqu'en {self.config.fin}"
        )
        return Markdown(
            f"{STYLE}\n\n# {kind} du schéma {span} — fiche action {md(self.config.code_fiche)}\n\n"
            f"{lead} · Métropole de Lyon et département du Rhône · rapport produit le {today()}"
        )

    def key_messages(self) -> list[str]:
        messages = [self._participation_message(), self._offer_message()]
        messages += self._target_sentences()
        messages += self._change_sentences()
        messages.append(self._territory_sentence())
        messages.append(self._actions_sentence())
        return [m for m in messages if m][:8]

    def _participation_message(self) -> str:
        first, last = (self._dep(RESPONSE_RATE, y) for y in (self.debut, self.fin))
        if not (analyse.shown(first) and analyse.shown(last)):
            return ""
        return (
            f"Participation à l'enquête : {int(first['numerateur'])} structures sur "
            f"{int(first['denominateur'])} en {self.debut} "
            f"({formatting.percentage(first['part'])}), "
            f"{int(last['numerateur'])} sur {int(last['denominateur'])} en {self.fin} "
            f"({formatting.percentage(last['part'])})."
        )

    def _offer_counts(self) -> pd.DataFrame:
        return tables.offer_counts(self.dataset.structures, self.years, "departement", "")

    def _offer_message(self) -> str:
        counts = self._offer_counts()
        approved = counts["CS agréés"] + counts["EVS agréés"]
        opened = int((counts["CS ouverts"] + counts["EVS ouverts"]).iloc[1:].sum())
        closed = int((counts["CS fermés"] + counts["EVS fermés"]).iloc[1:].sum())
        return (
            f"L'offre (action 4) : {int(approved.iloc[-1])} structures agréées en {self.fin} "
            f"({int(counts['CS agréés'].iloc[-1])} centres sociaux, "
            f"{int(counts['EVS agréés'].iloc[-1])} espaces de vie sociale), contre "
            f"{int(approved.iloc[0])} en {self.debut} ; {counted(opened, 'ouverture')} et "
            f"{counted(closed, 'fermeture')} entre {self.debut + 1} et {self.fin}."
        )

    def _target_sentences(self) -> list[str]:
        results = []
        for name in self.key_indicators():
            row, target = self._dep(name, self.fin), self.catalog.target(name, self.fin)
            if target is not None and analyse.shown(row):
                results.append(
                    (self._named(name), row["part"], target, self.catalog.direction(name))
                )
        return analyse.target_messages(results, f"pour l'ensemble en {self.fin}")

    def _named(self, indicateur: str) -> str:
        label = self.label(indicateur)
        return label[:1].lower() + label[1:] if label[1:2].islower() else label

    def _change_sentences(self) -> list[str]:
        up, down, flat = [], [], []
        for name in self.key_indicators():
            change = self._change("departement", ALL_PERIMETER, name)
            if change is None or change["secret"] or pd.isna(change["part_reference"]):
                continue
            sens = self.catalog.direction(name)
            text = (
                f"{self._named(name)} ({formatting.points(float(change['ecart']))} depuis "
                f"{int(change['annee_reference'])})"
            )
            if not analyse.significant(change["significatif"]):
                flat.append(self._named(name))
            elif (float(change["ecart_apparie"]) > 0) == (sens == "hausse"):
                up.append(text)
            else:
                down.append(text)
        sentences = []
        if up:
            sentences.append(
                "Progrès nets sur la période, mesurés sur les mêmes structures : "
                + analyse.join(up)
                + "."
            )
        if down:
            sentences.append(
                "Reculs nets sur la période, sur les mêmes structures : " + analyse.join(down) + "."
            )
        if flat:
            sentences.append(
                f"Sans évolution nette sur la période (écarts dans la marge d'incertitude) : "
                f"{analyse.join(flat)}."
            )
        return sentences

    def _territory_tests(self) -> tuple[int, int]:
        """(net changes, published comparisons) of the territories over the period."""
        table = self.published_changes()
        names = set(self.key_indicators())
        tested = table[
            (table["niveau"] == "territoire")
            & table["indicateur"].isin(names)
            & ~table["secret"].astype(bool)
            & table["p_valeur"].notna()
        ]
        net = int(tested["significatif"].map(analyse.significant).sum())
        return net, len(tested)

    def _territory_sentence(self) -> str:
        net, tests = self._territory_tests()
        if not tests:
            return ""
        return (
            f"Dans les territoires, {counted(net, 'évolution nette', 'évolutions nettes')} des "
            f"chiffres clés sur {tests} comparaisons publiées : le hasard seul en produirait "
            f"environ {round(tests * 0.05)}."
        )

    def _actions_sentence(self) -> str:
        year = min(self.fin, self.config.fin)
        states: dict[str, int] = {}
        done = late = planned = 0
        for action in self.config.actions:
            if year < action.debut:
                continue
            label = suivi.STATE_LABELS[suivi.state_in(self.history, action.numero, year)]
            states[label] = states.get(label, 0) + 1
            for milestone in suivi.milestones_over(self.history, action.numero, year):
                planned += 1
                done += milestone.done
                late += milestone.late(year)
        if not states:
            return ""
        parts = [f"{n} {label}" for label, n in states.items()]
        return (
            f"Les actions fin {year} : {analyse.join(parts)} ; "
            f"{counted(done, 'jalon réalisé', 'jalons réalisés')} sur {planned}, {late} en retard."
        )

    def a_retenir(self) -> None:
        display(self.titre("a-retenir"))
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.key_messages())
        display(HTML(f'<ul class="avs-retenir">{items}</ul>'))

    # - the actions
    def actions(self) -> None:
        """One table per action: states and achievements year by year, milestones, indicators."""
        year = min(self.fin, self.config.fin)
        for action in self.config.actions:
            followed = suivi_blocs.followed_indicators(
                action, self.catalog, self.config, self.context, self.fin
            )
            display(suivi_blocs.action_block(action, self.history, year, followed, self.debut))

    # - the indicators
    def trajectoires_indicateurs(self) -> None:
        """Per section of the sheet, each headline figure's trajectory: chart, table, change."""
        wanted = set(self.key_indicators())
        for section in self.catalog.sections(self.config):
            names = [i.nom for i in section.items if i.nom in wanted]
            if not names:
                continue
            display(Markdown(f"### {md(section.titre)}"))
            for name in names:
                display(Markdown(f"#### {md(self.label(name))}"))
                display(self.trajectory_chart(name))
                display(self.trajectory_table(name))
                display(Markdown(self.change_text(name)))

    def trajectory_rows(self, indicateur: str) -> pd.DataFrame:
        rows = self.context.rows(indicateur=indicateur, modalite="")
        rows = rows[rows["annee"].isin(self.years)]
        order = {"departement": 0, "collectivite": 1}
        rows = rows[rows["niveau"].isin(order)]
        return rows.sort_values(
            ["niveau", "perimetre", "annee"],
            key=lambda s: s.map(order) if s.name == "niveau" else s.map(sort_key),
        )

    def trajectory_chart(self, indicateur: str) -> Image:
        targets = {y: self.catalog.target(indicateur, y) for y in self.years}
        # the reference is marked when the question starts after the period does
        reference = self._reference(indicateur)
        reference = reference if reference > self.debut else None
        title = f"{self.label(indicateur)} : {self.debut}-{self.fin}"
        return chart(
            figures.trajectory(self.trajectory_rows(indicateur), title, targets, reference)
        )

    def _reference(self, indicateur: str) -> int:
        return max(self.debut, self.catalog.first_year(indicateur))

    def trajectory_table(self, indicateur: str) -> HTML:
        """The department's share year by year: share, interval, n, target, reached."""
        body = []
        for year in self.years:
            row = self._dep(indicateur, year)
            if row is None:
                body.append([str(year), "non posée", "–", "–", "–", "–"])
                continue
            target = self.catalog.target(indicateur, year)
            masked = bool(row[MASK])
            interval = (
                SECRET_SYMBOL
                if masked
                else formatting.interval(row["ic_bas"], row["ic_haut"])
                if not pd.isna(row["part"])
                else "–"
            )
            n = SECRET_SYMBOL if masked else str(int(row["denominateur"]))
            reached = "–"
            if target is not None and analyse.shown(row):
                ok = analyse.target_reached(row["part"], target, self.catalog.direction(indicateur))
                reached = "oui" if ok else "non"
            body.append(
                [
                    str(year),
                    share_cell(row, with_interval=False),
                    interval,
                    n,
                    formatting.percentage(target) if target is not None else "–",
                    reached,
                ]
            )
        header = [
            "Année",
            "Part (ensemble)",
            "Intervalle à 95 %",
            "Structures répondantes",
            "Cible",
            "Cible atteinte",
        ]
        return html_table(header, body)

    def change_text(self, indicateur: str) -> str:
        """The change over the period for the department, and last year's target, in words."""
        change = self._change("departement", ALL_PERIMETER, indicateur)
        reference = self._reference(indicateur)
        sens = self.catalog.direction(indicateur)
        if change is None or pd.isna(change["annee_reference"]):
            text = f"Question posée depuis {reference} : pas d'évolution mesurable sur la période."
        elif change["secret"]:
            text = f"L'évolution {reference}-{self.fin} relève du secret statistique."
        else:
            text = (
                f"De {int(change['annee_reference'])} à {self.fin}, la part passe de "
                f"{formatting.percentage(float(change['part_reference']))} à "
                f"{formatting.percentage(float(change['part']))} "
                f"({formatting.points(float(change['ecart']))}). Sur les structures ayant répondu "
                f"les deux années : **{analyse.verdict(change, sens)}**"
            )
            p = change["p_valeur"]
            text += f" (test de McNemar, p{NBSP}{_p(p)})." if not pd.isna(p) else "."
        target = self.catalog.target(indicateur, self.fin)
        row = self._dep(indicateur, self.fin)
        if target is not None and analyse.shown(row):
            ok = analyse.target_reached(row["part"], target, sens)
            text += (
                f" Cible {self.fin} ({formatting.percentage(target)}) : "
                f"**{'atteinte' if ok else 'non atteinte'}**"
                f" ({formatting.points(row['part'] - target)})."
            )
        return text

    # - territories
    def territory_changes(self) -> None:
        """Territory × headline figure: the change over the period, published rows only.

        Two tables, so that each fits a page's width: the sheet's indicators, then the
        actions' own questions; the note on chance comes once, after both.
        """
        wanted = set(self.key_indicators())
        items = [i for s in self.catalog.sections(self.config) for i in s.items]
        sheet = [i.nom for i in items if i.nom in wanted and i.indicateur]
        actions = [i.nom for i in items if i.nom in wanted and not i.indicateur]
        for title, names in (
            ("Les indicateurs de la fiche", sheet),
            ("Les questions suivies par les actions", actions),
        ):
            if names:
                display(Markdown(f"### {title}"))
                display(self._territory_table(names))
        net, tests = self._territory_tests()
        display(
            HTML(
                f"<p><small>Écart en points entre la première année de chaque question sur la "
                f"période et {self.fin} ; fond vert : progrès net, fond rouge : recul net, sur "
                f"les structures ayant répondu les deux années (test de McNemar au seuil de "
                f"5 %). {counted(net, 'évolution nette', 'évolutions nettes')} parmi {tests} "
                f"comparaisons de territoires "
                f"publiées ; environ {round(tests * 0.05)} le seraient par le seul hasard même "
                "si rien n'avait changé. « s » : secret statistique.</small></p>"
            )
        )

    def _territory_table(self, names: list[str]) -> HTML:
        header = ["Périmètre", *[self.label(n) for n in names]]
        perimeters = sorted(
            self.context.collectivite_of.items(), key=lambda kv: (sort_key(kv[1]), sort_key(kv[0]))
        )
        lines = [("territoire", t) for t, _ in perimeters]
        lines += [("collectivite", c) for c in sorted(set(self.context.collectivite_of.values()))]
        lines.append(("departement", ALL_PERIMETER))
        body = []
        for niveau, perimetre in lines:
            name = html.escape(perimetre)
            cells = [name if niveau == "territoire" else f"<strong>{name}</strong>"]
            for indicateur in names:
                cells.append(self._change_cell(niveau, perimetre, indicateur))
            body.append(cells)
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        rows = "".join("<tr>" + "".join(_td(cell) for cell in cells) + "</tr>" for cells in body)
        return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")

    def _change_cell(self, niveau: str, perimetre: str, indicateur: str) -> str:
        change = self._change(niveau, perimetre, indicateur)
        if change is None or (pd.isna(change["part_reference"]) and not change["secret"]):
            return "–"
        if change["secret"]:
            return SECRET_SYMBOL
        gap = formatting.points(float(change["ecart"]))
        if not analyse.significant(change["significatif"]):
            return gap
        rising = float(change["ecart_apparie"]) > 0
        progress = rising == (self.catalog.direction(indicateur) == "hausse")
        css = "avs-bilan-hausse" if progress else "avs-bilan-baisse"
        word = "progrès net" if progress else "recul net"
        return f'<span class="{css}">{gap}</span><br><small>{word}</small>'

    # - participation, offer, QPV
    def participation(self) -> HTML:
        """The response rate year by year: department and collectivités."""
        perimeters = [("departement", ALL_PERIMETER)] + [
            ("collectivite", c) for c in sorted(set(self.context.collectivite_of.values()))
        ]
        body = []
        for year in self.years:
            cells = [str(year)]
            for niveau, perimetre in perimeters:
                row = self.context.row(year, niveau, perimetre, RESPONSE_RATE)
                if row is None or row[MASK]:
                    cells.append(share_cell(row, False))
                    continue
                cells.append(
                    f"{formatting.percentage(row['part'])}<br><small>{int(row['numerateur'])} sur "
                    f"{int(row['denominateur'])}</small>"
                )
            body.append(cells)
        return html_table(["Année", *[p for _, p in perimeters]], body)

    def offre(self) -> HTML:
        """Approved structures, openings and closures of the department, year by year."""
        counts = self._offer_counts()
        body = [[str(year), *map(str, values)] for year, *values in counts.itertuples()]
        return html_table(["Année", *counts.columns], body)

    def qpv(self) -> HTML:
        """Headline figures in and out of the QPV, each year of the period (published rows)."""
        body = []
        groups = ((indicators.QPV_IN, "en QPV"), (indicators.QPV_OUT, "hors QPV"))
        for indicateur in [RESPONSE_RATE, *self.key_indicators()]:
            for k, (group, name) in enumerate(groups):
                label = f"<strong>{html.escape(self.label(indicateur))}</strong>" if not k else ""
                cells = [label, name]
                for year in self.years:
                    row = self.context.row(year, "qpv", group, indicateur)
                    cells.append(share_cell(row, False))
                body.append(cells)
        return html_table(["Indicateur", "Structures", *map(str, self.years)], body)

    # - the evaluator, the method
    def conclusions(self) -> None:
        """« Conclusions et recommandations »: parameters/commentaires/bilan.md, if written."""
        text = self.commentary
        if not commentaires.has_content(text):
            if self.interne:
                display(
                    Markdown(
                        "*Pas encore de conclusions : `avs-eval commentaires --bilan` crée "
                        "`parameters/commentaires/bilan.md`, à compléter (édition interne : "
                        "cette note n'apparaît pas dans l'édition partenaires).*"
                    )
                )
            return
        display(self.titre(CONCLUSIONS))
        display(HTML(f'<div class="avs-analyse">{commentaires.render(text)}</div>'))

    def method_note(self) -> Markdown:
        net, tests = self._territory_tests()
        return Markdown(
            f"Chaque année de {self.debut} à {self.fin} est lue comme dans le rapport de cette "
            "année-là : chaque part est calculée parmi les structures ayant répondu à la "
            "question, avec son intervalle de confiance à 95 % (méthode de Wilson) ; le taux "
            "de réponse compte toutes les structures agréées. Aucun chiffre n'est cumulé sur "
            "plusieurs années.\n\n"
            "**Ce qui est testé.** L'évolution d'un indicateur sur la période va de la première "
            "année de la période où la question est posée jusqu'à "
            f"{self.fin}. Elle est testée sur les mêmes structures, celles qui ont répondu les "
            "deux années (test exact de McNemar, qui ne regarde que les structures dont la "
            "réponse a changé) : « progrès net » ou « recul net » signifie que ce test conclut "
            "au seuil de 5 % ; sinon l'écart reste « dans la marge d'incertitude ». Une cible "
            "est dite atteinte quand la part de l'année l'atteint (ou, pour un indicateur à la "
            "baisse, ne la dépasse pas), sans tenir compte de l'intervalle.\n\n"
            f"**Comparaisons multiples.** Ce bilan publie {tests} comparaisons de territoires ; "
            f"au seuil de 5 %, environ {round(tests * 0.05)} évolutions nettes y "
            f"apparaîtraient par le seul hasard même si rien n'avait changé "
            f"({counted(net, 'observée')}). "
            "Une évolution nette isolée dans un territoire se lit donc avec prudence ; celles "
            "de l'ensemble et des collectivités reposent sur plus de structures.\n\n"
            "**Suivi des actions.** États, réalisations et jalons viennent des fichiers "
            "`parameters/suivi/<année>.yaml` tenus par l'évaluateur ; un jalon prévu une année "
            "et non réalisé à la fin de cette année est « en retard ».\n\n"
            f"**Secret statistique.** {SECRET_NOTE.format(n=self.min_effectif)} Il s'applique "
            "année par année comme dans les rapports annuels : ce bilan ne montre rien qu'un "
            "rapport annuel des mêmes données masquerait."
        )

    def provenance_line(self) -> Markdown:
        """As the yearly reports': the data's date (as the batch found it), the threshold."""
        return Markdown(
            f"*Enquêtes {self.debut}-{self.fin} (fichiers du {self.data_day()}) · seuil de "
            f"secret statistique : {self.min_effectif} structures · rapport du {today()}.*"
        )

    # - the tables beside the bilan
    def write_tables(self) -> Markdown | None:
        """trajectoires.csv, evolutions.csv, suivi_actions.csv and bilan.xlsx, as the edition
        allows (published in the partners' one)."""
        if self.output_dir is None:
            return None
        folder = self.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        trajectories_table = self.trajectoires
        changes = self.changes() if self.interne else self.published_changes()
        changes_file = (
            changes if self.interne else evolutions.published_form(changes, self.context.table)
        )
        if not self.interne:
            changes = evolutions.for_partners(changes, self.context.table)
        follow_up = suivi.table(self.history, self.config, min(self.fin, self.config.fin))
        follow_up = follow_up[follow_up["annee"] >= self.debut]
        write_atomic(folder / "trajectoires.csv", trajectories_csv(trajectories_table))
        tableur.write_published_csv(
            folder / "evolutions.csv",
            changes_file[evolutions.COLUMNS],
            share_columns=tableur.SHARE_COLUMNS
            if self.interne
            else tableur.SHARE_COLUMNS - tableur.POINTS_COLUMNS,
        )
        tableur.write_french_csv(folder / "suivi_actions.csv", follow_up, share_columns=())
        write_atomic(
            folder / "bilan.xlsx",
            workbook(trajectories_table, self.min_effectif, changes, follow_up, not self.interne),
        )
        if not self.interne:
            return None
        return Markdown(
            "Tables écrites à côté du bilan : `trajectoires.csv`, `evolutions.csv`, "
            "`suivi_actions.csv`, `bilan.xlsx` (édition interne : chiffres sous le secret "
            "compris)."
        )


def workbook(
    trajectories_table: pd.DataFrame,
    min_effectif: int,
    changes: pd.DataFrame,
    follow_up: pd.DataFrame,
    published: bool,
) -> bytes:
    """bilan.xlsx: the indicator workbook of the period, plus targets and the follow-up."""
    from avs_eval.excel import header_row, indicators_book

    # sheets added to the workbook as built: saving it then reading it back cost seconds
    book = indicators_book(trajectories_table, min_effectif, changes, published)
    targets = book.create_sheet("Cibles")
    header_row(targets, ["Année", "Niveau", "Périmètre", "Indicateur", "Part", "Cible", "Atteinte"],
            [8, 14, 26, 48, 8, 8, 10])  # fmt: skip
    rows = trajectories_table[trajectories_table["cible"].notna()]
    for row in rows.itertuples(index=False):
        part = None if row.part is None or pd.isna(row.part) else float(row.part)
        reached = "" if pd.isna(row.atteinte) else ("oui" if row.atteinte else "non")
        targets.append(
            [
                int(row.annee),
                row.niveau,
                row.perimetre,
                row.indicateur,
                part if part is not None else SECRET_SYMBOL if row.secret else "",
                float(row.cible),
                reached,
            ]
        )
    actions = book.create_sheet("Suivi des actions")
    header_row(actions, list(follow_up.columns), [8, 8, 48, 8, 8, 14, 60, 14, 16, 16])
    for row in follow_up.itertuples(index=False):
        actions.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _td(cell: str) -> str:
    return f'<td class="s">{cell}</td>' if cell == SECRET_SYMBOL else f"<td>{cell}</td>"


def _p(value: float) -> str:
    """« < 0,001 », « < 0,05 » or « ≥ 0,05 » after its « p »: a class, as everything
    published gives it (an exact p-value with the gap decodes the paired counts)."""
    return formatting.p_value_class(value)
