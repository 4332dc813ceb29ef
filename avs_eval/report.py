"""What the report notebooks show: one call per block, French text, secrecy applied.

A notebook cell calls one method and gets something Jupyter displays (Markdown,
HTML table, PNG chart). All numbers come from one masked indicator table built
once per data set (`Context`), so the tables, the charts and the sentences of a
report can never disagree, and a masked share can never leak through one of them.
"""

from __future__ import annotations

import datetime as dt
import html
import platform
import re

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from avs_eval import __version__, figures, indicators, paths
from avs_eval.catalog import RESPONSE_RATE, DerivedIndicator, Question, Section, load_catalog
from avs_eval.context import build_context
from avs_eval.errors import UsageError
from avs_eval.loading import DataSource
from avs_eval.output import write_atomic
from avs_eval.schema import ALL_PERIMETER, STRUCTURE_TYPES, sort_key
from avs_eval.secrecy import MASK, SECRET_NOTE, SECRET_SYMBOL

NBSP = "\u00a0"


# --- formatting -------------------------------------------------------------------------


def pct(value: float) -> str:
    return f"{value * 100:.0f}{NBSP}%"


def share_cell(row: pd.Series | None, with_interval: bool = True) -> str:
    """One share as HTML: "62 %" over its interval and n, or "s" when masked."""
    if row is None:
        return "–"
    if row[MASK]:
        return SECRET_SYMBOL
    if pd.isna(row["part"]):
        return "–"
    text = pct(row["part"])
    if with_interval:
        text += (
            f"<br><small>[{pct(row['ic_bas'])} ; {pct(row['ic_haut'])}]"
            f" · n{NBSP}={NBSP}{int(row['denominateur'])}</small>"
        )
    return text


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md(text: object) -> str:
    """Data shown inside Markdown as plain text: no HTML, no Markdown formatting.

    Names and answers come from files filled by hand; a structure called
    "<script>…" must read as those characters, never run.
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(str(text), quote=False))


def code(text: object) -> str:
    return f"<code>{html.escape(str(text))}</code>"


def html_table(header: list[str], body: list[list[str]], escape_body: bool = False) -> HTML:
    """A plain HTML table; header cells are always escaped, body cells when asked."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = []
    for cells in body:
        tds = []
        for cell in cells:
            text = html.escape(cell) if escape_body else cell
            css = ' class="s"' if cell == SECRET_SYMBOL else ""
            tds.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def chart(figure) -> Image:
    """The chart as an embedded PNG, described by its title for screen readers."""
    return Image(data=figures.png(figure), format="png", alt=figures.title_of(figure))


def today() -> str:
    return dt.date.today().strftime("%d/%m/%Y")


# --- shared by both reports -----------------------------------------------------------


class _Report:
    def __init__(
        self,
        annee: int,
        fichier_structures: str = "",
        fichier_reponses: str = "",
        classeur: str = "",
        dossier_sortie: str = "",
        min_effectif: int | None = None,
        verbatims: bool = False,
    ) -> None:
        self.source = DataSource.from_options(fichier_structures, fichier_reponses, classeur)
        self.catalog = load_catalog()
        self.context = build_context(self.source, min_effectif)
        self.dataset = self.context.dataset
        self.config = self.dataset.config
        self.annee = self.dataset.check_year(annee)
        self.min_effectif = self.context.min_effectif
        self.verbatims_on = bool(verbatims)
        self.output_dir = paths.resolve(dossier_sortie) if dossier_sortie else None
        self.first_year = min(self.context.years)

    # - layout: numbers, headings, anchors and the table of contents follow the catalog
    FIXED_BEFORE: tuple[tuple[str, str], ...] = ()
    FIXED_AFTER: tuple[tuple[str, str], ...] = ()
    WITH_CATALOG_SECTIONS = False

    def _sections(self) -> list[Section]:
        return self.catalog.sections(self.config) if self.WITH_CATALOG_SECTIONS else []

    def _layout(self) -> list[tuple[str, str, str]]:
        """(anchor, title, short title) of every section, in order."""
        fixed = [(k, t, t) for k, t in self.FIXED_BEFORE]
        fixed += [(s.key, s.titre, s.court) for s in self._sections()]
        fixed += [(k, t, t) for k, t in self.FIXED_AFTER]
        return fixed

    def sommaire(self) -> HTML:
        """The table of contents, numbered as the headings are."""
        links = " ·\n".join(
            f'<a href="#{key}">{number}. {html.escape(short)}</a>'
            for number, (key, _, short) in enumerate(self._layout(), start=1)
        )
        return HTML(f'<div class="avs-sommaire"><p><strong>Sommaire</strong> —\n{links}</p></div>')

    def titre(self, key: str) -> Markdown:
        """The numbered heading of a section, with the anchor the table of contents links to."""
        for number, (anchor, title, _) in enumerate(self._layout(), start=1):
            if anchor == key:
                return Markdown(f'<a id="{anchor}"></a>\n\n## {number}. {md(title)}')
        known = ", ".join(k for k, _, _ in self._layout())
        raise UsageError(f"section inconnue : « {key} » (sections : {known})")

    # - text blocks
    def sample_banner(self) -> Markdown | None:
        if not self.source.is_sample:
            return None
        return HTML(
            '<p class="avs-bandeau"><strong>Données d\'exemple fictives.</strong> Ce rapport est '
            "produit sur l'échantillon intégré à l'outil (structures et réponses inventées) : "
            "il illustre la démarche et ne décrit aucune structure réelle.</p>"
        )

    def secrecy_note(self) -> Markdown:
        return Markdown(f"*{SECRET_NOTE.format(n=self.min_effectif)}*")

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
            lines.append(f"{indicator.numero}. {md(_capitalised(indicator.intitule))}")
        return Markdown("\n".join(lines))

    def provenance(self, parameters: dict) -> Markdown:
        """Which files, which settings, which version: enough to reproduce the report."""
        lines = ["| Fichier | Empreinte SHA-256 |", "|---|---|"]
        for name, digest in self.dataset.hashes.items():
            lines.append(f"| {code(name)} | {code(digest)} |")
        lines += ["", "| Paramètre | Valeur |", "|---|---|"]
        for name, value in parameters.items():
            shown = paths.display_path(value) if name.startswith(("fichier", "dossier")) else value
            lines.append(f"| {code(name)} | {code(shown)} |")
        versions = (
            f"avs-eval {__version__}, Python {platform.python_version()}, pandas {pd.__version__}"
        )
        lines += ["", f"Produit le {today()} avec {versions}."]
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
        rows = self.context.table
        rows = rows[
            (rows["annee"] == self.annee)
            & (rows["niveau"] == niveau)
            & (rows["perimetre"] == perimetre)
            & rows["type"].isin(["CS", "EVS"])
            & (rows["modalite"] == "")
        ]
        order = self.key_indicators()
        labels = {i: self.label(i) for i in order}
        title = f"Centres sociaux et espaces de vie sociale — {name}, {self.annee}"
        return chart(figures.by_type(rows, title, order, labels))


# --- one territory -------------------------------------------------------------------


class TerritoryReport(_Report):
    """The report of one territory for one year, beside its collectivité and Ensemble."""

    FIXED_BEFORE = (
        ("fiche-action", "La fiche action"),
        ("participation", "Participation à l'enquête"),
        ("chiffres-cles", "Chiffres clés"),
    )
    FIXED_AFTER = (
        ("types", "Centres sociaux et espaces de vie sociale"),
        ("qualite", "Qualité des données"),
        ("provenance", "Provenance"),
    )
    WITH_CATALOG_SECTIONS = True

    def __init__(self, territoire: str, annee: int, **kwargs) -> None:
        super().__init__(annee, **kwargs)
        self.territoire = self.dataset.check_territory(territoire)
        self.collectivite = self.context.collectivite_of[territoire]
        self.perimeters = [
            ("territoire", territoire),
            ("collectivite", self.collectivite),
            ("departement", ALL_PERIMETER),
        ]

    # - helpers
    def _row(self, niveau, perimetre, indicateur, modalite="", annee=None, type="Ensemble"):
        return self.context.row(annee or self.annee, niveau, perimetre, indicateur, modalite, type)

    def _year_rows(self, indicateur: str, modalite: str = "") -> pd.DataFrame:
        rows = [self._row(n, p, indicateur, modalite) for n, p in self.perimeters]
        return pd.DataFrame([r for r in rows if r is not None])

    def _trend_rows(self, indicateur: str, modalite: str = "") -> pd.DataFrame:
        table = self.context.rows(indicateur=indicateur, modalite=modalite)
        keep = pd.Series(False, index=table.index)
        for niveau, perimetre in self.perimeters:
            keep |= (table["niveau"] == niveau) & (table["perimetre"] == perimetre)
        return table[keep & (table["annee"] <= self.annee)]

    # - blocks
    def title(self) -> Markdown:
        return Markdown(
            f"# Évaluation de la fiche action {self.config.code_fiche} — {md(self.territoire)}, "
            f"{self.annee}\n\n"
            f"Territoire **{md(self.territoire)}** ({md(self.collectivite)}) · "
            f"enquête {self.annee} · "
            f"rapport produit le {today()}"
        )

    def participation(self) -> HTML:
        """Population and respondents by type; counts are masked with the rate they reveal."""
        pop = self.context.population
        here = pop[(pop["annee"] == self.annee) & (pop["territoire"] == self.territoire)]
        body = []
        for kind in ("CS", "EVS", "Ensemble"):
            group = here if kind == "Ensemble" else here[here["type"] == kind]
            row = self._row("territoire", self.territoire, RESPONSE_RATE, type=kind)
            label = STRUCTURE_TYPES.labels.get(kind, "Ensemble des structures")
            if row is None:
                body.append([label, str(len(group)), "0", "–"])
                continue
            respondents = SECRET_SYMBOL if row[MASK] else str(int(row["numerateur"]))
            body.append([html.escape(label), str(len(group)), respondents, share_cell(row)])
        return html_table(
            ["Structures", f"Agréées en {self.annee}", "Répondantes", "Taux de réponse"], body
        )

    def non_respondents(self) -> Markdown:
        row = self._row("territoire", self.territoire, RESPONSE_RATE)
        if row is not None and row[MASK]:
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
        items = "".join(
            f"<li>{html.escape(str(r.nom))} ({html.escape(str(r.commune))}, {r.type})</li>"
            for r in missing.itertuples()
        )
        return HTML(
            f"<p>{len(missing)} structure(s) agréée(s) n'ont pas répondu en {self.annee} :</p>"
            f"<ul>{items}</ul>"
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
            for niveau, perimetre in self.perimeters:
                cells.append(share_cell(self._row(niveau, perimetre, indicateur)))
            cells.append(self._evolution(indicateur))
            target = self._target(indicateur)
            cells.append(pct(target) if target is not None else "–")
            cells.append(self._gap(indicateur, target))
            body.append(cells)
        return html_table(header, body)

    def _reference_year(self, indicateur: str) -> int:
        """The baseline of a change: the first year the question was asked and answered."""
        return max(self.first_year, self.catalog.first_year(indicateur))

    def _evolution(self, indicateur: str) -> str:
        reference = self._reference_year(indicateur)
        if self.annee <= reference:
            return "première année"
        start = self._row("territoire", self.territoire, indicateur, annee=reference)
        end = self._row("territoire", self.territoire, indicateur)
        if start is None or end is None or pd.isna(start["part"]) or pd.isna(end["part"]):
            return "–"
        if start[MASK] or end[MASK]:
            return SECRET_SYMBOL
        points = (end["part"] - start["part"]) * 100
        gap = f"{points:+.0f}{NBSP}pts".replace("-", "−")
        return f"{gap}<br><small>depuis {reference}</small>"

    def _gap(self, indicateur: str, target: float | None) -> str:
        if target is None:
            return "–"
        row = self._row("territoire", self.territoire, indicateur)
        if row is None or pd.isna(row["part"]):
            return "–"
        if row[MASK]:
            return SECRET_SYMBOL
        points = (row["part"] - target) * 100
        return f"{points:+.0f}{NBSP}pts".replace("-", "−")

    def question_chart(self, indicateur: str) -> Image:
        return chart(
            figures.comparison(
                self._year_rows(indicateur),
                self._trend_rows(indicateur),
                self.label(indicateur),
                self.annee,
                self._target(indicateur),
            )
        )

    def breakdown_chart(self, question: str) -> Image:
        q = self.catalog.by_column[question]
        rows = self.context.rows(annee=self.annee, indicateur=question)
        keep = pd.Series(False, index=rows.index)
        for niveau, perimetre in self.perimeters:
            keep |= (rows["niveau"] == niveau) & (rows["perimetre"] == perimetre)
        codes = _codes_of(q, self.annee)
        labels = {m.code: m.libelle for m in q.modalites}
        title = f"{q.libelle} en {self.annee} (parmi les structures ayant coché au moins un choix)"
        return chart(figures.breakdown(rows[keep], title, codes, labels))

    def breakdown_table(self, question: str) -> HTML:
        q = self.catalog.by_column[question]
        body = []
        for modalite in q.modalites:
            if not modalite.asked_in(self.annee):
                continue
            cells = [html.escape(modalite.libelle)]
            for niveau, perimetre in self.perimeters:
                cells.append(
                    share_cell(self._row(niveau, perimetre, question, modalite.code), False)
                )
            body.append(cells)
        header = [q.libelle, self.territoire, self.collectivite, ALL_PERIMETER]
        return html_table(header, body)

    def _measure(self, indicateur: str) -> str:
        if indicateur == RESPONSE_RATE:
            return "structures répondantes / structures agréées"
        return html.escape(self.catalog.item(indicateur).mesure)

    def type_chart(self, niveau: str = "territoire") -> Image:
        perimetre = dict(self.perimeters)[niveau]
        return self._type_chart(niveau, perimetre, perimetre)

    def verbatims(self, question: str) -> HTML | None:
        """Free-text answers of the territory's structures, only with `verbatims` on."""
        if not self.verbatims_on:
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
        display(self.titre(key))
        intro = self._section_intro(found)
        if intro:
            display(Markdown(intro))
        for item in found.items:
            for block in self._blocks(item):
                display(block)

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
            cited = ", ".join(source.label_of(c) for c in item.codes)
            return [
                Markdown(
                    f"**{md(item.libelle)}** : part des structures citant au moins l'un de ces "
                    f"choix ({md(cited)}), parmi celles qui ont répondu à la question "
                    f"« {md(source.libelle)} »."
                ),
                self.question_chart(item.nom),
            ]
        if item.kind == "oui_non":
            return [self.question_chart(item.colonne)]
        if item.kind == "liste":
            blocks = [self.breakdown_chart(item.colonne)]
            if not item.condition:
                blocks.append(self.breakdown_table(item.colonne))
            return blocks
        shown = self.verbatims(item.colonne)
        return [shown] if shown is not None else []

    def data_quality(self) -> HTML:
        """Blank items per question, and how many warnings validation raised."""
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

    def warnings_summary(self) -> Markdown:
        count = len(self.dataset.warnings)
        if not count:
            return Markdown("La validation des données n'a relevé aucune incohérence.")
        kinds = pd.Series([w.message.split(":")[0] for w in self.dataset.warnings]).value_counts()
        lines = [
            f"La validation a relevé {count} incohérence(s) non bloquante(s) dans l'ensemble "
            "des données (détail pour l'équipe : `avs-eval valider`) :",
            "",
        ]
        lines += [f"- {n} × {md(kind)}" for kind, n in kinds.items()]
        return Markdown("\n".join(lines))

    def write_indicators(self) -> Markdown:
        """The territory's rows, its collectivité's and Ensemble's, every year up to Y."""
        if self.output_dir is None:
            return Markdown("*(Aucun dossier de sortie : table des indicateurs non écrite.)*")
        table = self.context.table
        keep = pd.Series(False, index=table.index)
        for niveau, perimetre in self.perimeters:
            keep |= (table["niveau"] == niveau) & (table["perimetre"] == perimetre)
        table = table[keep & (table["type"] == "Ensemble") & (table["annee"] <= self.annee)]
        target = self.output_dir / "indicateurs.csv"
        write_atomic(target, indicators.to_csv(table))
        return Markdown(
            f"Table des indicateurs écrite : `indicateurs.csv` ({len(table)} lignes, "
            "usage interne : les parts sous le seuil y figurent avec `secret=True`)."
        )


def _codes_of(question: Question, year: int) -> list[str]:
    """The codes of a list offered in `year` (a code added later has no row before)."""
    return [m.code for m in question.modalites if m.asked_in(year)]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the whole department --------------------------------------------------------------


class SynthesisReport(_Report):
    """All territories for one year: participation, heatmap, trends, CS against EVS."""

    FIXED_BEFORE = (
        ("fiche-action", "La fiche action"),
        ("participation", "Participation par territoire"),
        ("carte", "Les indicateurs par territoire"),
        ("evolutions", "Évolutions par collectivité"),
        ("details", "Les détails des indicateurs"),
        ("types", "Centres sociaux et espaces de vie sociale"),
        ("provenance", "Provenance"),
    )

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
            respondents = SECRET_SYMBOL if row[MASK] else str(int(row["numerateur"]))
            body.append(
                [
                    html.escape(row["perimetre"]),
                    html.escape(self.context.collectivite_of[row["perimetre"]]),
                    str(int((group["type"] == "CS").sum())),
                    str(int((group["type"] == "EVS").sum())),
                    respondents,
                    share_cell(row),
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
                        str(int((group["type"] == "CS").sum())),
                        str(int((group["type"] == "EVS").sum())),
                        SECRET_SYMBOL if row[MASK] else str(int(row["numerateur"])),
                        share_cell(row),
                    ]
                )
        return html_table(
            ["Territoire", "Collectivité", "CS", "EVS", "Répondantes", "Taux de réponse"], body
        )

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
        return chart(figures.heatmap(matrix, mask, title))

    def collectivite_trends(self, indicateur: str) -> Image:
        rows = self.context.rows(indicateur=indicateur, modalite="")
        rows = rows[rows["niveau"].isin(["collectivite", "departement"])]
        rows = rows[rows["annee"] <= self.annee]
        return chart(figures.trends(rows, f"{self.label(indicateur)} : évolution"))

    def evolutions(self) -> None:
        """One trend chart per headline figure of the catalog (`cle: true`)."""
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
            & (rows["type"] == "Ensemble")
            & rows["niveau"].isin(["collectivite", "departement"])
        ]
        labels = {m.code: m.libelle for m in q.modalites}
        codes = _codes_of(q, self.annee)
        return chart(figures.breakdown(rows, f"{q.libelle} en {self.annee}", codes, labels))
