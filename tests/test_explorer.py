"""The explorer without a browser: set the controls, read the table, the chart data, the files."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from avs_eval import paths
from avs_eval.catalog import RESPONSE_RATE
from avs_eval.errors import SecrecyAuditFailed
from avs_eval.explorer import AHEAD, Explorer, Selection, chart_rows, french_table, select_rows
from avs_eval.export import notebook_to_html
from avs_eval.schema import ALL_PERIMETER
from avs_eval.secrecy import MASK, SECRET_SYMBOL

MINI = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"
NUMBER = re.compile(r"\d")


@pytest.fixture
def explorer(tmp_path) -> Iterator[Explorer]:
    explorer = Explorer(min_effectif=5, dossier_sortie=tmp_path / "sorties")
    yield explorer
    explorer.close()  # the thresholds masked ahead: not into the next test


def territories(explorer: Explorer) -> tuple:
    return tuple(v for _, v in explorer.perimetres.options if v[0] == "territoire")


def test_defaults_show_the_last_year_for_ensemble_and_the_collectivites(explorer):
    last = max(explorer.context.years)
    assert explorer.annees.value == (last, last)
    assert explorer.rows["perimetre"].tolist() == [ALL_PERIMETER, "Métropole de Lyon", "Rhône"]
    assert set(explorer.rows["indicateur"]) == {RESPONSE_RATE}
    assert set(explorer.rows["type"]) == {"Ensemble"}
    assert list(explorer.table.columns[:5]) == [
        "Année",
        "Niveau",
        "Périmètre",
        "Structures",
        "Indicateur",
    ]
    assert explorer.table["Indicateur"].eq("Taux de réponse à l'enquête").all()
    assert explorer.png.startswith(b"\x89PNG")
    assert explorer.image.value == explorer.png
    assert html.escape("Taux de réponse à l'enquête") in explorer.table_view.value


def test_indicator_and_code_follow_the_dropdown(explorer):
    before = explorer.png
    explorer.indicateur.value = ("permanence_partenaires", "caf")
    assert set(explorer.rows["indicateur"]) == {"permanence_partenaires"}
    assert set(explorer.rows["modalite"]) == {"caf"}
    assert explorer.table["Indicateur"].eq("Caf").all()
    assert explorer.png != before
    labels = dict((v, k) for k, v in explorer.indicateur.options)
    assert labels[("permanence_partenaires", "caf")] == "Partenaires tenant une permanence : Caf"


def test_a_range_of_years_gives_lines_with_wilson_bands(explorer):
    explorer.annees.value = (2022, 2025)
    assert sorted(explorer.rows["annee"].unique()) == [2022, 2023, 2024, 2025]
    assert len(explorer.table) == 4 * 3
    axes = explorer._figure.axes[0]
    assert len(axes.get_lines()) == 3  # one line per perimeter
    assert len(axes.collections) == 3  # one Wilson band per perimeter
    explorer.annees.value = (2024, 2024)
    assert explorer._figure.axes[0].containers  # bars (with error bars) for one year


def test_structure_filter_maps_to_the_type_column(explorer):
    explorer.structures.value = "CS"
    assert set(explorer.rows["type"]) == {"CS"}
    assert explorer.table["Structures"].eq("CS").all()
    explorer.structures.value = "EVS"
    assert set(explorer.rows["type"]) == {"EVS"}
    explorer.structures.value = "CS+EVS"
    assert explorer.rows["type"].tolist() == ["CS", "EVS"] * 3
    assert explorer.rows["serie"].iloc[0] == f"{ALL_PERIMETER} — CS"
    explorer.structures.value = "Ensemble"
    assert set(explorer.rows["type"]) == {"Ensemble"}


def test_perimeters_keep_the_order_chosen(explorer):
    chosen = (territories(explorer)[3], ("departement", ALL_PERIMETER), territories(explorer)[0])
    explorer.perimetres.value = chosen
    assert list(zip(explorer.rows["niveau"], explorer.rows["perimetre"], strict=True)) == list(
        chosen
    )
    explorer.perimetres.value = ()
    assert explorer.rows.empty
    assert "au moins un périmètre" in explorer.table_view.value
    assert explorer.export("csv") is None


def test_masked_shares_never_show_as_numbers(explorer):
    explorer.perimetres.value = territories(explorer)
    explorer.indicateur.value = ("aller_vers_partenaire", "")
    explorer.structures.value = "CS+EVS"
    masked = explorer.rows[MASK].to_numpy(dtype=bool)
    assert masked.any() and not masked.all()
    shown = explorer.table[masked]
    for column in ("Part", "Intervalle de confiance à 95 %", "Effectif (n)"):
        assert shown[column].eq(SECRET_SYMBOL).all()
        assert not explorer.table[~masked][column].eq(SECRET_SYMBOL).any()
    data = explorer.chart_data
    for column in ("part", "ic_bas", "ic_haut", "numerateur"):
        assert data.loc[masked, column].isna().all()
    texts = [t.get_text() for t in explorer._figure.axes[0].texts]
    assert texts.count(SECRET_SYMBOL) == masked.sum()
    cells = re.findall(r'<td class="s">([^<]*)</td>', explorer.table_view.value)
    assert cells and set(cells) == {SECRET_SYMBOL}


def test_threshold_rebuilds_the_masked_table(explorer):
    explorer.perimetres.value = territories(explorer)
    strict = explorer.rows[MASK].sum()
    explorer.min_effectif.value = 1
    assert explorer.context.min_effectif == 1
    assert explorer.rows[MASK].sum() < strict
    explorer.min_effectif.value = 50
    assert explorer.rows[MASK].all()
    assert "moins de 50 structures" in explorer.table_view.value


@pytest.mark.parametrize("threshold", [1, 3, 8, 5])
def test_a_new_threshold_gives_build_contexts_table_without_reloading(explorer, threshold):
    from avs_eval import context as context_module
    from avs_eval import loading

    calls = []
    original = loading.load
    context_module.load = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        explorer.min_effectif.value = threshold
    finally:
        context_module.load = original
    assert calls == [] or threshold == 5  # 5: the threshold loaded first, kept
    assert explorer.context.min_effectif == threshold
    expected = context_module.build_context(explorer.context.dataset.source, threshold)
    pd.testing.assert_frame_equal(explorer.context.table, expected.table)
    assert explorer.context.key == expected.key


def test_a_new_threshold_reloads_files_changed_on_disk(tmp_path):
    import shutil

    for name in ("structures.csv", "reponses.csv"):
        shutil.copy(MINI / name, tmp_path / name)
    explorer = Explorer(str(tmp_path / "structures.csv"), str(tmp_path / "reponses.csv"))
    before = len(explorer.context.dataset.responses)
    lines = (tmp_path / "reponses.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "reponses.csv").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    explorer.min_effectif.value = 2
    assert len(explorer.context.dataset.responses) == before - 1
    assert explorer.context.min_effectif == 2
    explorer.close()


@pytest.fixture
def masking(monkeypatch):
    """`context.masked_table` recorded: (threshold, thread name) per call; `hold` blocks one."""
    from avs_eval import context as context_module

    original = context_module.masked_table
    calls: list[tuple[int, str]] = []
    hold: dict[int, threading.Event] = {}
    fail: set[int] = set()

    def recorded(unmasked, threshold, *args, **kwargs):
        calls.append((threshold, threading.current_thread().name))
        if threshold in hold:
            assert hold[threshold].wait(30)
        if threshold in fail:
            raise SecrecyAuditFailed(f"audit du secret : aucun masquage sûr au seuil {threshold}")
        return original(unmasked, threshold, *args, **kwargs)

    monkeypatch.setattr(context_module, "masked_table", recorded)
    return calls, hold, fail


def test_neighbouring_thresholds_are_masked_ahead_in_the_background(masking, tmp_path):
    calls, _, _ = masking
    explorer = Explorer(min_effectif=5, dossier_sortie=tmp_path)
    try:
        assert explorer.settle(120)
        ahead = [5 + offset for offset in AHEAD]
        assert calls[0] == (5, "MainThread")  # the load (`build_context`)
        assert calls[1:] == [(threshold, "avs-eval-seuils") for threshold in ahead]
        for threshold in ahead:  # now a change of threshold masks nothing in the user's thread
            explorer.min_effectif.value = threshold
            assert explorer.context.min_effectif == threshold
        assert [threshold for threshold, _ in calls[1 : 1 + len(ahead)]] == ahead
        assert all(thread == "avs-eval-seuils" for _, thread in calls[1:])
        assert explorer.message.value == ""
    finally:
        explorer.close()


def test_a_threshold_under_way_is_waited_for_not_masked_twice(masking, tmp_path):
    calls, hold, _ = masking
    hold[6] = threading.Event()
    explorer = Explorer(min_effectif=5, dossier_sortie=tmp_path)
    try:
        threading.Timer(0.3, hold[6].set).start()
        explorer.min_effectif.value = 6  # the background thread is on it: wait, then show it
        assert explorer.context.min_effectif == 6
        assert [threshold for threshold, _ in calls].count(6) == 1
        explorer.min_effectif.value = 40  # far from any queued: masked here, at once
        assert (40, threading.current_thread().name) in calls
        assert explorer.context.min_effectif == 40
    finally:
        explorer.close()


def test_a_threshold_whose_masking_fails_says_so_and_keeps_the_table_shown(masking, tmp_path):
    _, _, fail = masking
    fail.add(6)
    explorer = Explorer(min_effectif=5, dossier_sortie=tmp_path)
    try:
        explorer.settle(120)
        table = explorer.context.table
        explorer.min_effectif.value = 6
        assert "Seuil 6 non appliqué : audit du secret : aucun masquage sûr" in (
            explorer.message.value
        )
        assert explorer.context.table is table and explorer.context.min_effectif == 5
        explorer.min_effectif.value = 4
        assert explorer.context.min_effectif == 4
    finally:
        explorer.close()


def test_exports_write_the_current_table_and_chart(explorer, tmp_path):
    explorer.perimetres.value = territories(explorer)[:4]
    explorer.indicateur.value = ("contrat_local", "")
    explorer.export_csv.click()
    csv = tmp_path / "sorties" / "explorateur_contrat_local_2025_ensemble.csv"
    assert csv.exists()
    assert "Tableau enregistré" in explorer.message.value
    text = csv.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Année;Niveau;Périmètre;Structures;Indicateur;Part (%)")
    read = pd.read_csv(csv, sep=";", encoding="utf-8-sig", dtype=str)
    masked = explorer.rows[MASK].to_numpy(dtype=bool)
    assert read.loc[masked, "Part (%)"].eq(SECRET_SYMBOL).all()
    assert read.loc[~masked, "Part (%)"].str.fullmatch(r"\d+(,\d)?").all()

    explorer.export_xlsx.click()
    workbook = pd.read_excel(csv.with_suffix(".xlsx"))
    assert len(workbook) == len(explorer.rows)
    assert workbook.loc[masked, "Part (%)"].eq(SECRET_SYMBOL).all()
    unmasked = workbook.loc[~masked, "Part (%)"].astype(float)
    expected = (explorer.rows.loc[~masked, "part"] * 100).round(1).to_numpy()
    assert np.allclose(unmasked.to_numpy(), expected)

    explorer.export_png.click()
    assert csv.with_suffix(".png").read_bytes() == explorer.png
    assert "Graphique enregistré" in explorer.message.value
    assert not list((tmp_path / "sorties").glob(".*.tmp"))  # written atomically


def test_other_files_and_load_errors(explorer, tmp_path):
    explorer.fichier_structures.value = str(MINI / "structures.csv")
    explorer.fichier_reponses.value = str(MINI / "reponses.csv")
    explorer.charger.click()
    assert territories(explorer) == tuple(
        ("territoire", t) for t in explorer.context.dataset.territories
    )
    assert "Lyon" in explorer.context.dataset.territories
    assert explorer.context.dataset.structures["structure_id"].iloc[0] == "S1"
    assert explorer.annees.max == max(explorer.context.years)
    assert set(explorer.rows["annee"]) == {explorer.annees.value[0]}

    table = explorer.context.table
    explorer.fichier_reponses.value = str(tmp_path / "absent.csv")
    explorer.charger.click()
    assert "Fichier introuvable : absent.csv" in explorer.message.value
    assert explorer.context.table is table  # the previous data stay on screen

    explorer.fichier_reponses.value = ""
    explorer.charger.click()
    assert "vont ensemble" in explorer.message.value


def test_pure_functions_agree_with_the_widgets(explorer):
    selection = Selection(
        "permanence_partenaire", "", (2023, 2024), (("collectivite", "Rhône"),), "EVS"
    )
    rows = select_rows(explorer.context.table, selection)
    assert rows["annee"].tolist() == [2023, 2024]
    assert rows["type"].eq("EVS").all()
    assert selection.stem() == "explorateur_permanence_partenaire_2023-2024_evs"
    table = french_table(rows)
    assert table["Niveau"].eq("Collectivité").all()
    assert chart_rows(rows)["part"].notna().sum() == (~rows[MASK]).sum()


@pytest.mark.lent
def test_explorer_notebook_leaves_no_widget_in_html(tmp_path):
    """Executed as committed, then exported: the widget cell vanishes without a trace."""
    notebook = nbformat.read(paths.NOTEBOOKS_DIR / "explorateur.ipynb", as_version=4)
    tagged = [c for c in notebook.cells if "widgets" in c.metadata.get("tags", [])]
    assert tagged and all("Explorer" in c.source for c in tagged)
    NotebookClient(notebook, timeout=120, store_widget_state=True).execute()
    assert "widgets" in notebook.metadata  # the widget state exists before export
    page = notebook_to_html(notebook, "Explorateur")
    for trace in ("widget-view", "jupyter-widgets", "unpkg", "cdn.jsdelivr", "avs-explorateur"):
        assert trace not in page
    assert not re.search(r"<script[^>]+src=", page)
    assert "jp-OutputArea-output" not in page.split("</style>")[-1]  # no empty output box
