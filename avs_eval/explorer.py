"""The explorer of `notebooks/explorateur.ipynb`: indicators by perimeter and year, live.

Evaluators choose the data files, an indicator, a year or a range of years, the
perimeters (territories, collectivités, Ensemble), the kind of structures and the
secrecy threshold; the chart and the table follow each change, and buttons export
them into `outputs/`. Every figure comes from the masked table of
`context.build_context`, as in the reports: a masked share is shown "s", never as a
number, in the table, the chart and the exported files alike.

The selection logic is made of pure functions (`select_rows`, `chart_rows`,
`french_table`, `figure`) so it is tested without a browser; `Explorer` only wires
them to ipywidgets.
"""

from __future__ import annotations

import html
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from avs_eval import figures, formatting, paths
from avs_eval.blocs import html_table
from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.config import load_config
from avs_eval.context import Context, build_context, source_key
from avs_eval.errors import AvsEvalError, ValidationError
from avs_eval.output import write_atomic
from avs_eval.schema import ALL_PERIMETER, LEVEL_LABELS, STRUCTURE_CHOICES, sort_key
from avs_eval.secrecy import MASK, SECRET_NOTE, SECRET_SYMBOL
from avs_eval.sources import DataSource

TYPE_LABELS = {ALL_PERIMETER: "Toutes", "CS": "CS", "EVS": "EVS"}
TABLE_STYLE = (
    "<style>.avs-explorateur table{border-collapse:collapse;font-size:13px;margin-top:.5em}"
    ".avs-explorateur th,.avs-explorateur td{border-bottom:1px solid #ccc;padding:2px 8px;"
    "text-align:left;line-height:1.4}.avs-explorateur td.s{font-weight:bold;color:#8c4a00}</style>"
)
MAX_SERIES = len(figures.PALETTE)  # lines the chart can tell apart by colour
WIDE = {"description_width": "11em"}  # the controls' labels, aligned

AHEAD = (1, -1, 2, -2)
"""Thresholds masked in the background after each load or threshold change, as offsets
from the one shown, nearest first: a threshold never chosen on these data costs one
secrecy audit (seconds on the sample), and the next ones a user tries are its neighbours."""

Perimeter = tuple[str, str]  # (niveau, perimetre)
Indicator = tuple[str, str]  # (indicateur, modalite)


# --- pure functions: what to show for a selection --------------------------------------


@dataclass(frozen=True)
class Selection:
    """What the controls say; `annees` is an inclusive (first, last) range."""

    indicateur: str = RESPONSE_RATE
    modalite: str = ""
    annees: tuple[int, int] = (0, 0)
    perimetres: tuple[Perimeter, ...] = (("departement", ALL_PERIMETER),)
    structures: str = ALL_PERIMETER

    @property
    def single_year(self) -> bool:
        return self.annees[0] == self.annees[1]

    @property
    def label(self) -> str:
        label = load_catalog().label(self.indicateur)
        if self.modalite:
            label += f" : {load_catalog().label(self.indicateur, self.modalite)}"
        return label

    @property
    def years_text(self) -> str:
        first, last = self.annees
        return str(first) if first == last else f"{first}-{last}"

    def stem(self) -> str:
        """File name of the exports: explorateur_<indicator>[_<code>]_<years>_<structures>."""
        parts = ["explorateur", self.indicateur, self.modalite, self.years_text, self.structures]
        text = "_".join(p for p in parts if p).lower()
        return re.sub(r"[^a-z0-9_-]+", "-", text)


def indicator_options() -> list[tuple[str, Indicator]]:
    """Every indicator of the table with its French label, in the questionnaire's order."""
    options = [(load_catalog().label(RESPONSE_RATE), (RESPONSE_RATE, ""))]
    catalog = load_catalog()
    for question in catalog.questions:
        if question.kind == "oui_non":
            options.append((question.libelle, (question.colonne, "")))
        elif question.kind == "liste":
            for modalite in question.modalites:
                label = f"{question.libelle} : {modalite.libelle}"
                options.append((label, (question.colonne, modalite.code)))
    options += [(item.libelle, (item.nom, "")) for item in catalog.derived]
    return options


def perimeter_options(context: Context) -> list[tuple[str, Perimeter]]:
    """Ensemble, then the collectivités, then the territories (French reading order)."""
    collectivites = sorted(set(context.collectivite_of.values()), key=sort_key)
    options = [(f"{ALL_PERIMETER} (tout le département)", ("departement", ALL_PERIMETER))]
    options += [(f"{c} (collectivité)", ("collectivite", c)) for c in collectivites]
    options += [(t, ("territoire", t)) for t in context.dataset.territories]
    return options


def select_rows(table: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """The rows of the masked table for a selection, in display order, with a `serie` label.

    Order: year, then perimeters as selected, then CS before EVS. `serie` names a
    line of the chart: the perimeter, followed by the kind when CS and EVS are compared.
    """
    types = STRUCTURE_CHOICES[selection.structures][1]
    first, last = selection.annees
    rows = table[
        (table["indicateur"] == selection.indicateur)
        & (table["modalite"] == selection.modalite)
        & table["annee"].between(first, last)
        & table["type"].isin(types)
    ]
    order = {perimeter: k for k, perimeter in enumerate(selection.perimetres)}
    keys = list(zip(rows["niveau"], rows["perimetre"], strict=True))
    rank = pd.Series([order.get(k, -1) for k in keys], index=rows.index, dtype=int)
    rows = rows.assign(_rang=rank, _type=rows["type"].map(types.index))
    rows = rows[rows["_rang"] >= 0].sort_values(["annee", "_rang", "_type"])
    serie = rows["perimetre"].astype(str)
    if len(types) > 1:
        serie = serie + " — " + rows["type"].astype(str)
    return rows.assign(serie=serie).drop(columns=["_rang", "_type"]).reset_index(drop=True)


def chart_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows a chart receives: a masked share and its interval are blanked, not only flagged.

    The figures already draw "s" for a masked row; blanking the numbers as well means a
    figure function can never draw them, whatever it does.
    """
    masked = rows[MASK].to_numpy(dtype=bool)
    blanked = rows.copy()
    for column in ("part", "ic_bas", "ic_haut", "numerateur"):
        blanked[column] = blanked[column].astype(float).where(~masked)
    return blanked


def french_table(rows: pd.DataFrame, numeric: bool = False) -> pd.DataFrame:
    """The table the evaluator reads (or exports): French headers, "s" for masked figures.

    With `numeric`, shares are percentages as numbers (one decimal) for a spreadsheet;
    otherwise they are text ("62 %", "[45 % ; 76 %]").
    """
    records = []
    for row in rows.itertuples(index=False):
        masked = bool(getattr(row, MASK))
        missing = pd.isna(row.part)
        record = {
            "Année": int(row.annee),
            "Niveau": LEVEL_LABELS[row.niveau],
            "Périmètre": row.perimetre,
            "Structures": TYPE_LABELS[row.type],
            "Indicateur": load_catalog().label(row.indicateur, row.modalite),
        }
        if numeric:
            record |= {
                "Part (%)": _number(row.part, masked, missing),
                "IC 95 % bas (%)": _number(row.ic_bas, masked, missing),
                "IC 95 % haut (%)": _number(row.ic_haut, masked, missing),
            }
        else:
            record |= {
                "Part": SECRET_SYMBOL if masked else formatting.percentage(row.part),
                "Intervalle de confiance à 95 %": SECRET_SYMBOL
                if masked
                else formatting.interval(row.ic_bas, row.ic_haut),
            }
        record["Effectif (n)"] = SECRET_SYMBOL if masked else int(row.denominateur)
        records.append(record)
    columns = ["Année", "Niveau", "Périmètre", "Structures", "Indicateur"]
    columns += (
        ["Part (%)", "IC 95 % bas (%)", "IC 95 % haut (%)"]
        if numeric
        else ["Part", "Intervalle de confiance à 95 %"]
    )
    return pd.DataFrame(records, columns=[*columns, "Effectif (n)"])


def _french_decimal(value: object) -> object:
    return formatting.decimal_comma(value, 1) if isinstance(value, float) else value


def _number(value: float, masked: bool, missing: bool) -> object:
    """A share as a percentage with one decimal, rounded as everywhere (`formatting`)."""
    if masked:
        return SECRET_SYMBOL
    return "" if missing else float(formatting.round_half_away(value, 1, 100))


def figure(rows: pd.DataFrame, selection: Selection) -> Figure:
    """Bars with Wilson intervals for one year; lines with Wilson bands over several years."""
    data = chart_rows(rows)
    title = f"{selection.label} — {selection.years_text}"
    types = STRUCTURE_CHOICES[selection.structures][1]
    if selection.single_year:
        order = list(dict.fromkeys(data["perimetre"]))
        names = [STRUCTURE_CHOICES[t][0] if t != ALL_PERIMETER else "Toutes" for t in types]
        return figures.perimeter_bars(data, title, order, list(types), names)
    series = list(dict.fromkeys(data["serie"]))[:MAX_SERIES]
    data = data[data["serie"].isin(series)]
    # the legend has a fixed margin: long names go on several lines rather than off the page
    data = data.assign(legende=[figures.wrap(name, 20) for name in data["serie"]])
    chart = figures.trends(data, title, hue="legende")
    ax = chart.axes[0]
    ax.set_xlabel("Année")
    ax.set_ylabel("Part (bande : IC à 95 %)")
    for k, (color, name) in enumerate(zip(figures.PALETTE, series, strict=False)):
        for year in data.loc[(data["serie"] == name) & data[MASK], "annee"]:
            # one height per series, so that the "s" of several series do not overlap
            ax.text(year, 0.03 + 0.06 * k, SECRET_SYMBOL, color=color, ha="center", weight="bold")
    ax.set_xlim(selection.annees[0] - 0.3, selection.annees[1] + 0.3)
    return chart


# --- the widgets ---------------------------------------------------------------------------


class Explorer:
    """The controls, the chart and the table; everything is recomputed when a control changes.

    Tests drive it through its widgets (`explorer.indicateur.value = …`) and read
    `explorer.rows`, `explorer.table`, `explorer.chart_data` and `explorer.png`.
    """

    def __init__(
        self,
        fichier_structures: str = "",
        fichier_reponses: str = "",
        classeur: str = "",
        min_effectif: int = 0,
        dossier_sortie: str | Path = paths.OUTPUTS_DIR,
    ) -> None:
        self.output_dir = paths.resolve(dossier_sortie)
        self.context: Context | None = None
        self.rows = pd.DataFrame()
        self.table = pd.DataFrame()
        self.png = b""
        self._figure: Figure | None = None
        self.map_png = b""  # the indicator's map, beside the chart (avs_eval.cartes)
        self._map: Figure | None = None
        self._quiet = False
        # The loaded data's masked tables, per threshold, the neighbours of the one shown
        # computed ahead in a background thread (see `_threshold_changed`).
        self._thresholds: Thresholds | None = None
        self._make_data_controls(fichier_structures, fichier_reponses, classeur)
        self._make_selection_controls(min_effectif)
        self._make_outputs()
        self._connect()
        self.ui = self._arrange()
        self.load()

    # - building the widgets, in the order of the page
    def _make_data_controls(
        self, fichier_structures: str, fichier_reponses: str, classeur: str
    ) -> None:
        """The files to read (register and answers, or one workbook) and the load button."""
        full = widgets.Layout(width="100%")
        self.fichier_structures = widgets.Text(
            fichier_structures, description="Registre des structures", style=WIDE, layout=full
        )
        self.fichier_reponses = widgets.Text(
            fichier_reponses, description="Réponses à l'enquête", style=WIDE, layout=full
        )
        self.classeur = widgets.Text(
            classeur,
            description="Ou classeur XLSX",
            placeholder="laisser vide si les deux fichiers ci-dessus sont indiqués",
            style=WIDE,
            layout=full,
        )
        self.charger = widgets.Button(
            description="Charger les données",
            icon="folder-open",
            layout=widgets.Layout(width="auto"),
        )

    def _make_selection_controls(self, min_effectif: int) -> None:
        """What to show: indicator, years, perimeters, kind of structures, secrecy threshold."""
        full = widgets.Layout(width="100%")
        self.indicateur = widgets.Dropdown(
            options=indicator_options(), description="Indicateur", style=WIDE, layout=full
        )
        self.annees = widgets.IntRangeSlider(
            description="Années",
            style=WIDE,
            continuous_update=False,
            layout=widgets.Layout(width="40em"),
        )
        self.perimetres = widgets.SelectMultiple(
            description="Périmètres", rows=8, style=WIDE, layout=full
        )
        self.structures = widgets.ToggleButtons(
            options=[(label, key) for key, (label, _) in STRUCTURE_CHOICES.items()],
            description="Structures",
            style=WIDE | {"button_width": "auto"},
        )
        self.min_effectif = widgets.BoundedIntText(
            int(min_effectif) or load_config().min_effectif,
            min=1,
            max=100,
            description="Seuil de secret",
            style=WIDE,
        )

    def _make_outputs(self) -> None:
        """The export buttons, the message line, the chart, the map and the table."""
        auto = widgets.Layout(width="auto")
        self.export_csv = widgets.Button(description="Tableau en CSV", icon="download", layout=auto)
        self.export_xlsx = widgets.Button(
            description="Tableau en Excel", icon="download", layout=auto
        )
        self.export_png = widgets.Button(
            description="Graphique en PNG", icon="download", layout=auto
        )
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.map_image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.image.add_class("avs-graphique")  # named for the browser test and the CSS
        self.map_image.add_class("avs-carte")
        self.table_view = widgets.HTML()

    def _connect(self) -> None:
        """Buttons act; a new threshold re-masks; any other control redraws."""
        self.charger.on_click(lambda _: self.load())
        self.export_csv.on_click(lambda _: self.export("csv"))
        self.export_xlsx.on_click(lambda _: self.export("xlsx"))
        self.export_png.on_click(lambda _: self.export("png"))
        self.min_effectif.observe(lambda _: self._threshold_changed(), names="value")
        for control in (self.indicateur, self.annees, self.perimetres, self.structures):
            control.observe(lambda _: self.refresh(), names="value")

    def _arrange(self) -> widgets.VBox:
        """The page: the files folded away, the controls, then the chart, map and table."""
        hint = widgets.HTML(
            "<small>Fichiers CSV ou XLSX ; les chemins relatifs partent de la racine du projet. "
            "Tous vides : l'échantillon fictif intégré.</small>"
        )
        data = widgets.VBox(
            [self.fichier_structures, self.fichier_reponses, self.classeur, hint, self.charger]
        )
        files = widgets.Accordion([data], titles=("Données",))
        ui = widgets.VBox(
            [
                files,
                self.indicateur,
                self.annees,
                self.perimetres,
                self.structures,
                self.min_effectif,
                widgets.HBox([self.export_csv, self.export_xlsx, self.export_png]),
                self.message,
                # side by side when the window is wide enough, the map under the chart if not
                widgets.HBox([self.image, self.map_image], layout={"flex_flow": "row wrap"}),
                self.table_view,
            ],
            layout=widgets.Layout(max_width="60em"),
        )
        ui.add_class("avs-explorateur")
        return ui

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.ui)

    # - state
    @property
    def selection(self) -> Selection:
        indicateur, modalite = self.indicateur.value
        return Selection(
            indicateur,
            modalite,
            tuple(self.annees.value),
            tuple(self.perimetres.value),
            self.structures.value,
        )

    @property
    def chart_data(self) -> pd.DataFrame:
        return chart_rows(self.rows)

    # - actions
    def load(self) -> None:
        """(Re)build the masked table from the files and the threshold, keep the selection."""
        try:
            source = DataSource.from_options(
                self.fichier_structures.value.strip(),
                self.fichier_reponses.value.strip(),
                self.classeur.value.strip(),
            )
            missing = [paths.display_path(f) for f in source.files if not f.is_file()]
            if missing:
                self._say(f"Fichier introuvable : {', '.join(missing)}", error=True)
                return
            context = build_context(source, self.min_effectif.value)
        except ValidationError as error:
            self._say(error.report(), error=True)
            return
        except AvsEvalError as error:
            self._say(f"Données non chargées : {error}", error=True)
            return
        except OSError as error:  # unreadable file: say which, in French
            self._say(f"Fichier illisible : {error.filename or error}", error=True)
            return
        years = context.years
        if not years:
            self._say("Aucune réponse à l'enquête dans ces fichiers.", error=True)
            return
        self.context = context
        if self._thresholds is not None:
            self._thresholds.close(wait=False)  # its tables are those of the data replaced
        self._thresholds = Thresholds(context)
        chosen = set(self.perimetres.value)
        options = perimeter_options(context)
        self._quiet = True
        try:
            _set_range(self.annees, min(years), max(years))
            self.perimetres.options = options
            valid = [value for _, value in options if value in chosen]
            self.perimetres.value = tuple(valid) or tuple(value for _, value in options[:3])
        finally:
            self._quiet = False
        self._say("")
        self.refresh()
        self._thresholds.ahead(self._neighbours())

    def _threshold_changed(self) -> None:
        """A new secrecy threshold: the secrecy pass again on the loaded data.

        `build_context` would read and validate the files again (seconds on a big
        register). When the files named are those loaded and unchanged on disk, only
        the masking depends on the threshold; otherwise everything is reloaded.
        """
        context = self.context
        try:
            source = DataSource.from_options(
                self.fichier_structures.value.strip(),
                self.fichier_reponses.value.strip(),
                self.classeur.value.strip(),
            )
            same = context is not None and source == context.dataset.source
            same = same and source_key(source, context.min_effectif) == context.key
        except (AvsEvalError, OSError):
            same = False
        if not same or self._thresholds is None:
            self.load()
            return
        threshold = self.min_effectif.value
        waiting = not self._thresholds.ready(threshold)
        if waiting:  # the front end shows this while the audit runs
            self._say(f"Seuil de secret {threshold} : calcul des parts masquées en cours…")
        try:
            self.context = self._thresholds.get(threshold)
        except AvsEvalError as error:  # e.g. an audit that finds no safe pattern
            self._say(f"Seuil {threshold} non appliqué : {error}", error=True)
            return
        if waiting:
            self._say("")
        self.refresh()
        self._thresholds.ahead(self._neighbours())

    def _neighbours(self) -> list[int]:
        """The thresholds to mask ahead: `AHEAD` around the one shown, within the control."""
        shown, control = self.min_effectif.value, self.min_effectif
        return [shown + d for d in AHEAD if control.min <= shown + d <= control.max]

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the thresholds queued ahead are masked; False if `timeout` ran out.

        What a user reading the chart gives the background thread; the benchmark and the
        tests wait so, to measure and check a control once its neighbours are ready.
        """
        return self._thresholds is None or self._thresholds.settle(timeout)

    def close(self) -> None:
        """Stop masking thresholds ahead; waits for the one under way (tests, notebooks' end)."""
        if self._thresholds is not None:
            self._thresholds.close(wait=True)

    def refresh(self) -> None:
        if self._quiet or self.context is None:
            return
        selection = self.selection
        self.rows = select_rows(self.context.table, selection)
        self.table = french_table(self.rows)
        if self.rows.empty:
            self._figure = None
            self.png = b""
            self.image.value = b""
            self.table_view.value = "<p>Choisissez au moins un périmètre.</p>"
            self._draw_map(None)
            return
        self._figure = figure(self.rows, selection)
        self.png = figures.png(self._figure)
        self.image.value = self.png
        shown = self.table.drop(columns="Indicateur")  # it is the caption
        body = [[str(v) for v in record] for record in shown.itertuples(index=False)]
        caption = f"<p><strong>{html.escape(selection.label)}</strong> — {selection.years_text}</p>"
        note = SECRET_NOTE.format(n=self.context.min_effectif)
        extra = ""
        if not selection.single_year and self.rows["serie"].nunique() > MAX_SERIES:
            extra = (
                f" Le graphique montre les {MAX_SERIES} premières séries ; le tableau les montre"
                " toutes."
            )
        self.table_view.value = (
            f'{TABLE_STYLE}<div class="avs-tableau">{caption}'
            + html_table(list(shown.columns), body, escape_body=True).data
            + f"<small>{html.escape(note + extra)}</small></div>"
        )
        # the map last: the chart and the table reach the page (each widget's new value
        # is sent when set) while the map is still being drawn
        self._draw_map(selection)

    def _draw_map(self, selection: Selection | None) -> None:
        """The map of the selection's last year; not redrawn when only the chart changes."""
        from avs_eval import cartes, geographie  # here: the first chart does not wait for them

        if selection is None:
            self._map, self.map_png, self.map_image.value = None, b"", b""
            return
        try:
            background = geographie.load_background("", "code", "", self.context.dataset)
        except ValidationError as error:  # no map, the chart and the table still shown
            self._say(f"Carte impossible : {error.report()}", error=True)
            self._map, self.map_png, self.map_image.value = None, b"", b""
            return
        drawn = cartes.explorer_map(background, self.context.table, selection)
        if drawn is not self._map:
            self._map, self.map_png = drawn, figures.png(drawn)
            self.map_image.value = self.map_png

    def export(self, kind: str) -> Path | None:
        """Write the current table (csv, xlsx) or chart (png) into the output folder."""
        if self.rows.empty:
            self._say("Rien à exporter : choisissez au moins un périmètre.", error=True)
            return None
        path = self.output_dir / f"{self.selection.stem()}.{kind}"
        if kind == "png":
            write_atomic(path, self.png)
            what = "Graphique"
        else:
            table = french_table(self.rows, numeric=True)
            if kind == "csv":  # what French Excel opens directly: ";", "," and UTF-8 with BOM
                table = table.map(_french_decimal)
                content = "\ufeff" + table.to_csv(sep=";", index=False)
            else:
                buffer = io.BytesIO()
                table.to_excel(buffer, index=False, sheet_name="indicateurs")
                content = buffer.getvalue()
            write_atomic(path, content)
            what = "Tableau"
        self._say(f"{what} enregistré : {paths.display_path(path)}")
        return path

    def _say(self, text: str, error: bool = False) -> None:
        if not text:
            self.message.value = ""
            return
        color = "#b00020" if error else "#1b5e20"
        escaped = html.escape(text).replace("\n", "<br>")
        self.message.value = f'<p style="color:{color}">{escaped}</p>'


class Thresholds:
    """One data set's masked tables per threshold, the neighbours computed in a daemon thread.

    A threshold's table is the secrecy pass on the unmasked table (`context.masked_table`),
    and with the audit on that is seconds on the sample: done when the user picks the
    threshold, the control would freeze. `ahead` queues thresholds for a background
    thread (HiGHS releases the interpreter while it solves: the widgets stay responsive);
    `get` returns a table at once when it is ready, waits when the thread is on it, and
    computes it in the caller's thread otherwise. The thread is a daemon: closing the
    kernel never waits for an audit nobody asked for. The same two steps as
    `build_context` (the unmasked table, computed once per data set, then the masking),
    without reading the files again; tests/test_explorer.py checks the result equals it.
    """

    def __init__(self, first: Context) -> None:
        self._first = first
        self._ready: dict[int, Context | Exception] = {first.min_effectif: first}
        self._queue: list[int] = []
        self._running: set[int] = set()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._unmasked: tuple[pd.DataFrame, list] | None = None
        self._unmasked_lock = threading.Lock()

    def ready(self, threshold: int) -> bool:
        with self._condition:
            return threshold in self._ready

    def ahead(self, thresholds: Iterable[int]) -> None:
        """Mask these thresholds in the background, in this order, instead of those queued."""
        with self._condition:
            self._queue = [t for t in thresholds if t not in self._ready and t not in self._running]
            if self._queue and self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="avs-eval-seuils", daemon=True
                )
                self._thread.start()

    def get(self, threshold: int) -> Context:
        """The table for `threshold`; raises what computing it raised (an `AvsEvalError`)."""
        with self._condition:
            if threshold in self._queue:
                self._queue.remove(threshold)
            while threshold in self._running:
                self._condition.wait()
            result = self._ready.get(threshold)
            if result is None:
                self._running.add(threshold)
        if result is None:
            result = self._compute_and_keep(threshold)
        if isinstance(result, Exception):
            if not isinstance(result, AvsEvalError):  # not a property of the data: retry
                with self._condition:
                    self._ready.pop(threshold, None)
            raise result
        return result

    def settle(self, timeout: float | None) -> bool:
        """Wait until nothing is queued or under way; False if `timeout` ran out first."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and not self._running, timeout)

    def close(self, wait: bool) -> None:
        """Drop what is queued; `wait`: until the table under way is done."""
        with self._condition:
            self._queue.clear()
            thread = self._thread
        if wait and thread is not None:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._condition:
                if not self._queue:
                    self._thread = None
                    return
                threshold = self._queue.pop(0)
                self._running.add(threshold)
            self._compute_and_keep(threshold)

    def _compute_and_keep(self, threshold: int) -> Context | Exception:
        """Compute (the caller marked `threshold` running), keep, wake whoever waits."""
        try:
            result: Context | Exception = self._compute(threshold)
        except Exception as error:  # kept for `get`, which raises it in the user's thread
            result = error
        with self._condition:
            self._running.discard(threshold)
            self._ready[threshold] = result
            self._condition.notify_all()
        return result

    def _compute(self, threshold: int) -> Context:
        from avs_eval.context import masked_table, unmasked_table
        from avs_eval.secrecy import additive_relations

        first, dataset = self._first, self._first.dataset
        with self._unmasked_lock:
            if self._unmasked is None:
                unmasked = unmasked_table(dataset)
                self._unmasked = (unmasked, additive_relations(unmasked, dataset.collectivites))
        unmasked, relations = self._unmasked
        table = masked_table(unmasked, threshold, dataset.collectivites, relations)
        return Context(dataset, threshold, table, first.population, (first.key[0], threshold))


def _set_range(slider: widgets.IntRangeSlider, low: int, high: int) -> None:
    """New bounds for a range slider, keeping its value when it still fits (else the last year)."""
    old = tuple(slider.value)
    slider.max = max(slider.max, high)  # widen first: a bound may never cross the value
    slider.min = min(slider.min, low)
    slider.value = (max(old[0], low), old[1]) if low <= old[1] <= high else (high, high)
    slider.min, slider.max = low, high
