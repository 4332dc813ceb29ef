"""Maps: the shapes a user gives, how communes join the register, and what is drawn.

Partners read maps as published tables: a masked share must show as hatching and « s »,
every commune of the register must be found (or named in a warning), a bad file must say
what is wrong in French, and every map must tell a screen reader that it is a map.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import matplotlib.colors
import pandas as pd
import pytest
import shapely

from avs_eval import (
    carte_situation,
    cartes,
    figures,
    formatting,
    geographie,
    paths,
    sample,
    sample_territories,
)
from avs_eval.catalog import RESPONSE_RATE, load_catalog
from avs_eval.context import build_context
from avs_eval.errors import ValidationError
from avs_eval.explorer import Selection
from avs_eval.secrecy import MASK
from avs_eval.sources import DataSource

REFERENCE = Path(paths.PROJECT_ROOT).parent / "shared" / "reference"
YEAR = 2025


@pytest.fixture(scope="module")
def context():
    return build_context(DataSource.sample())


@pytest.fixture(scope="module")
def background(context):
    return geographie.load_background("", "code", "", context.dataset)


def headline(context) -> list[str]:
    catalog = load_catalog()
    names = catalog.headline(context.dataset.config)
    return [name for name in names if catalog.asked(name, YEAR)]


# --- small user data: three square communes -------------------------------------------------


def square(x: float, y: float) -> shapely.Polygon:
    return shapely.box(4.8 + x * 0.05, 45.7 + y * 0.05, 4.85 + x * 0.05, 45.75 + y * 0.05)


SQUARES = {"69001": square(0, 0), "69002": square(1, 0), "69003": square(0, 1)}


def register(*rows: tuple[str, str, str, str]) -> SimpleNamespace:
    """A dataset-like register: (structure_id, type, code_insee, territoire) rows."""
    frame = pd.DataFrame(
        [
            {
                "structure_id": sid,
                "type": kind,
                "code_insee": code,
                "territoire": territoire,
                "collectivite": "Rhône",
                "annee_debut": pd.NA,
                "annee_fin": pd.NA,
                "_ligne": line,
            }
            for line, (sid, kind, code, territoire) in enumerate(rows, start=2)
        ]
    )
    return SimpleNamespace(structures=frame, source=None, hashes={"rows": repr(rows)})


def write_geojson(path: Path, shapes: dict[str, object], field: str = "insee") -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {field: code, "nom": f"Commune {code}"},
            "geometry": json.loads(shapely.to_geojson(shape)),
        }
        for code, shape in shapes.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def write_with_gdal(path: Path, shapes: dict[str, object], field: str = "insee") -> Path:
    """A GeoPackage or a Shapefile (after the suffix), as GIS software writes them."""
    import numpy as np
    from pyogrio.raw import write

    codes = np.array(list(shapes), dtype=object)
    geometry = np.array([shapely.to_wkb(s) for s in shapes.values()], dtype=object)
    driver = "GPKG" if path.suffix == ".gpkg" else "ESRI Shapefile"
    write(path, geometry, [codes], [field], driver=driver, geometry_type="Polygon", crs="EPSG:4326")
    return path


TWO_TERRITORIES = register(
    ("A1", "CS", "69001", "Nord"),
    ("A2", "EVS", "69001", "Nord"),
    ("B1", "CS", "69002", "Sud"),
)


# --- the shipped background and the sample's table -------------------------------------------


def reference(name: str) -> Path:
    """A file of ../shared/reference, which a clone outside the workplace does not have."""
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"public reference data absent from {REFERENCE}")
    return path


def test_default_background_is_the_reference_copy_with_its_notice() -> None:
    shipped = paths.DEFAULT_BACKGROUND
    assert shipped.read_bytes() == reference("communes-69-rhone.geojson").read_bytes()
    notice = (shipped.parent / "LISEZMOI.md").read_text("utf-8")
    assert "Licence Ouverte" in notice and "2018" in notice and "IGN" in notice


def test_sample_table_assigns_every_commune_plausibly(context) -> None:
    with open(paths.SAMPLE_DIR / sample.COMMUNE_TERRITORIES_FILE, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    shapes = geographie.read_shapes()
    assert [r["code_insee"] for r in rows] == sorted(shapes.geometry)
    collectivite = context.dataset.collectivites
    metropole = set(sample_territories.METROPOLE_CODES)  # checked against the reference list below
    for row in rows:
        expected = "Métropole de Lyon" if row["code_insee"] in metropole else "Rhône"
        assert collectivite[row["territoire"]] == expected, row
    register = context.dataset.structures
    for code, territoire in zip(register["code_insee"], register["territoire"], strict=True):
        assert {"code_insee": code, "territoire": territoire} in rows


def test_sample_table_is_what_the_generator_writes(tmp_path: Path) -> None:
    sample.write_commune_territories(tmp_path / "t.csv")
    committed = paths.SAMPLE_DIR / sample.COMMUNE_TERRITORIES_FILE
    assert (tmp_path / "t.csv").read_bytes() == committed.read_bytes()


def test_metropole_codes_match_the_reference_list() -> None:
    codes = json.loads(reference("communes_metropole_lyon.json").read_text("utf-8"))
    # 2024 list plus Pierre-Bénite, still a commune in the background's 2018 geography
    assert set(sample_territories.METROPOLE_CODES) == {c["code"] for c in codes} | {"69152"}


def test_sample_background_draws_every_register_commune(background) -> None:
    assert background.warnings == []
    assert len(background.territory_of) == 278  # the sample's table covers every commune
    assert background.year == 2018 and "2018" in background.caption


# --- the maps ----------------------------------------------------------------------------


def test_synthesis_hatches_secret_territories_without_a_pile_of_s(context, background) -> None:
    """Small multiples: masked territories hatched, one legend entry, no « s » on each."""
    names = headline(context)
    figure = cartes.synthesis_maps(background, context.table, YEAR, names)
    assert len(figure.axes) == len(names)
    for ax, name in zip(figure.axes, names, strict=True):
        values = cartes.territory_values(context.table, YEAR, name)
        masked = sorted(values.index[values[MASK]])
        (hatched,) = [c for c in ax.collections if c.get_gid() == "secret"]
        assert hatched.get_hatch() == cartes.HATCH
        assert len(hatched.get_paths()) == len(masked)
        assert not [t for t in ax.texts if t.get_gid() == "secret-label"]
        shown = [t.get_text() for t in ax.texts]
        assert not any("%" in text for text in shown)  # no masked share leaks as a number
    assert any(cartes.territory_values(context.table, YEAR, n)[MASK].any() for n in names)
    legend = [t.get_text() for t in figure.texts]
    assert sum("secret statistique" in text for text in legend) == 1
    assert "hachures : secret statistique" in legend
    # drawn once: the same data give the same figure, not a new drawing
    assert cartes.synthesis_maps(background, context.table, YEAR, names) is figure


def test_every_map_has_french_alt_text_starting_with_carte(context, background) -> None:
    from avs_eval.blocs import chart

    maps = [
        cartes.synthesis_maps(background, context.table, YEAR, headline(context)),
        cartes.response_rate_map(background, context.table, YEAR),
        carte_situation.locator_map(background, context.dataset, "Val d'Yzeron", YEAR),
        cartes.explorer_map(background, context.table, Selection(annees=(YEAR, YEAR))),
    ]
    for figure in maps:
        alt = chart(figure).alt
        assert alt.startswith("Carte"), alt
        assert str(YEAR) in alt
    assert "Val d'Yzeron" in figures.title_of(maps[2])


def test_locator_map_shows_structures_by_type_and_commune_names(context, background) -> None:
    figure = carte_situation.locator_map(
        background, context.dataset, "Lônes et Coteaux du Rhône", YEAR
    )
    zoom = figure.axes[1]
    approved = context.dataset.approved_in(YEAR)
    approved = approved[approved["territoire"] == "Lônes et Coteaux du Rhône"]
    for kind in ("CS", "EVS"):
        (dots,) = [c for c in zoom.collections if c.get_gid() == f"structures-{kind}"]
        assert len(dots.get_offsets()) == (approved["type"] == kind).sum()
    names = {t.get_text() for t in zoom.texts}
    assert {"Givors", "Irigny"} <= names
    # no two labels overlap
    renderer = figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in zoom.texts]
    for k, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[k + 1 :])


def test_explorer_map_follows_the_selection(context, background) -> None:
    first = Selection(indicateur=RESPONSE_RATE, annees=(2022, YEAR))
    second = Selection(indicateur="contrat_local", annees=(2024, 2024), structures="CS+EVS")
    one = cartes.explorer_map(background, context.table, first)
    two = cartes.explorer_map(background, context.table, second)
    assert str(YEAR) in figures.title_of(one) and "2024" in figures.title_of(two)
    assert figures.title_of(one) != figures.title_of(two)
    assert len(one.axes) == 1 and len(two.axes) == 2  # CS and EVS side by side


# --- user shapes and tables ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_user_shapes_in_geojson_geopackage_and_shapefile(tmp_path: Path, suffix: str) -> None:
    writer = write_geojson if suffix == ".geojson" else write_with_gdal
    path = writer(tmp_path / f"communes-2024{suffix}", SQUARES)
    background = geographie.load_background(path, "insee", "", TWO_TERRITORIES)
    assert background.warnings == []
    assert background.territory_of == {"69001": "Nord", "69002": "Sud"}
    assert background.outside_path is not None  # 69003: no structure, no territory: grey
    assert background.year == 2024 and "2024" in background.caption
    figure = carte_situation.locator_map(background, TWO_TERRITORIES, "Nord")
    assert figures.title_of(figure).startswith("Carte de situation du territoire Nord")


def test_missing_register_code_is_a_warning_listing_it(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    data = register(("A1", "CS", "69001", "Nord"), ("Z9", "CS", "69999", "Nord"))
    background = geographie.load_background(path, "insee", "", data)
    (warning,) = background.warnings
    assert (warning.colonne, warning.valeur, warning.ligne) == ("code_insee", "69999", 3)
    assert "absent du fond de carte" in warning.message and "Z9" in warning.message
    assert "69999" in "\n".join(background.warning_lines())
    assert "69999" not in background.territory_of


def test_commune_territory_table_and_an_unknown_territory(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    table = tmp_path / "communes_territoires.csv"
    table.write_text("code_insee;territoire\n69001;Nord\n69003;Nord\n69002;Ailleurs\n", "utf-8")
    background = geographie.load_background(path, "insee", table, TWO_TERRITORIES)
    assert background.territory_of["69003"] == "Nord"  # a commune without structure, assigned
    (warning,) = [w for w in background.warnings if w.colonne == "territoire"]
    assert (warning.ligne, warning.valeur) == (4, "Ailleurs")
    assert "inconnu du registre" in warning.message
    # the register still places Sud's structures in their commune
    assert background.territory_of["69002"] == "Sud"


def test_commune_territory_table_in_xlsx_with_a_bad_code(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    book = Workbook()
    sheet = book.active
    for row in (("code_insee", "territoire"), ("69001", "Nord"), ("6900X", "Nord")):
        sheet.append(row)
    book.save(tmp_path / "table.xlsx")
    with pytest.raises(ValidationError) as caught:
        geographie.load_background(path, "insee", tmp_path / "table.xlsx", TWO_TERRITORIES)
    (error,) = caught.value.errors
    assert (error.ligne, error.colonne, error.valeur) == (3, "code_insee", "6900X")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("communes.geojson", b"{ceci n'est pas du json", "fond de carte illisible"),
        ("communes.gpkg", b"pas un geopackage", "fond de carte illisible"),
        ("communes.shp", b"\x00\x01", "fond de carte illisible"),
        ("communes.kml", b"<kml/>", "non pris en charge"),
    ],
)
def test_unreadable_background_is_a_french_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        geographie.load_background(tmp_path / name, "code", "", TWO_TERRITORIES)
    (error,) = caught.value.errors
    assert name in error.fichier and expected in error.message


def test_missing_insee_property_names_the_properties_there_are(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES, field="insee")
    with pytest.raises(ValidationError) as caught:
        geographie.load_background(path, "code", "", TWO_TERRITORIES)
    (error,) = caught.value.errors
    assert "« insee »" in error.message and "--champ-insee" in error.message


def test_unreadable_table_is_a_french_error(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    (tmp_path / "table.csv").write_text("commune,secteur\n69001,Nord\n", "utf-8")
    with pytest.raises(ValidationError) as caught:
        geographie.load_background(path, "insee", tmp_path / "table.csv", TWO_TERRITORIES)
    assert "code_insee" in caught.value.errors[0].message


def test_lyon_arrondissements_are_drawn_as_lyon(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "communes.geojson", {"69123": square(0, 0), "69002": square(1, 0)}
    )
    data = register(("L1", "CS", "69381", "Lyon"), ("L2", "EVS", "69385", "Lyon"))
    background = geographie.load_background(path, "insee", "", data)
    assert background.warnings == []
    assert background.territory_of == {"69123": "Lyon"}
    assert set(background.points["code"]) == {"69123"} and len(background.points) == 2


def test_arrondissement_shapes_are_merged_for_a_register_with_lyon(tmp_path: Path) -> None:
    shapes = {"69381": square(0, 0), "69382": square(1, 0), "69002": square(0, 1)}
    path = write_geojson(tmp_path / "communes.geojson", shapes)
    data = register(("L1", "CS", "69123", "Lyon"))
    background = geographie.load_background(path, "insee", "", data)
    assert background.warnings == []
    assert background.territory_of == {"69123": "Lyon"}
    assert background.territory_geometry["Lyon"].area == pytest.approx(2 * 0.05 * 0.05)


def test_background_pickles_for_the_batch(background) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(background))
    assert copy.territory_of == background.territory_of
    assert copy.territory_paths.keys() == background.territory_paths.keys()


def indicator_table(rows: list[tuple[str, float, bool]], indicateur: str) -> pd.DataFrame:
    """A masked indicator table for YEAR: (territoire, part, masque) rows."""
    return pd.DataFrame(
        [
            {
                "annee": YEAR,
                "niveau": "territoire",
                "perimetre": territoire,
                "indicateur": indicateur,
                "modalite": "",
                "type": "Ensemble",
                "part": part,
                MASK: masked,
            }
            for territoire, part, masked in rows
        ]
    )


def test_maps_of_user_data_hatch_the_secret_territory(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    background = geographie.load_background(path, "insee", "", TWO_TERRITORIES)
    table = pd.concat(
        [
            indicator_table([("Nord", 0.9, False), ("Sud", float("nan"), True)], "contrat_local"),
            indicator_table([("Nord", 0.5, False), ("Sud", float("nan"), True)], RESPONSE_RATE),
        ]
    )
    synthesis = cartes.synthesis_maps(background, table, YEAR, ["contrat_local"])
    (ax,) = synthesis.axes
    (hatched,) = [c for c in ax.collections if c.get_gid() == "secret"]
    assert len(hatched.get_paths()) == 1 and hatched.get_hatch() == cartes.HATCH
    # small multiples: hatching and a legend entry, no « s » piled on the polygons
    assert not [t for t in ax.texts if t.get_gid() == "secret-label"]
    # no Métropole in these data: one map, no zoom
    rate = cartes.response_rate_map(background, table, YEAR)
    assert len(rate.axes) == 1
    texts = " ".join(t.get_text() for t in rate.axes[0].texts)
    # the share as `formatting` writes it everywhere; the masked one shows only « s »
    assert formatting.percentage(0.5) in texts and "Sud" not in texts
    figures.png(synthesis)
    figures.png(rate)


def test_a_territory_missing_from_the_shapes_still_gets_a_locator_map(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    data = register(("A1", "CS", "69001", "Nord"), ("Z9", "CS", "69999", "Loin"))
    background = geographie.load_background(path, "insee", "", data)
    figure = carte_situation.locator_map(background, data, "Loin")
    assert figures.title_of(figure).startswith("Carte de situation du territoire Loin")
    figures.png(figure)


def test_explorer_map_follows_a_control_change(tmp_path: Path) -> None:
    from avs_eval.explorer import Explorer

    explorer = Explorer(min_effectif=5, dossier_sortie=tmp_path)
    first, png = explorer._map, explorer.map_png
    assert png.startswith(b"\x89PNG") and explorer.map_image.value == png
    assert figures.title_of(first).startswith("Carte : Taux de réponse")
    explorer.indicateur.value = ("contrat_local", "")
    assert explorer.map_png != png and explorer.map_image.value == explorer.map_png
    assert "contrat de politique locale" in figures.title_of(explorer._map)
    # the first year changes the chart (a trend), not the map of the last year: not redrawn
    drawn = explorer._map
    low, high = explorer.annees.value
    explorer.annees.value = (low + 1, high) if low < high else (low - 1, high)
    assert explorer._map is drawn
    explorer.close()


def test_projected_shapes_in_metres_are_drawn_without_reprojection(tmp_path: Path) -> None:
    from shapely import affinity

    # Lambert-93-like coordinates: metres, far from any longitude/latitude range
    metres = {
        code: affinity.affine_transform(shape, [80_000, 0, 0, 110_000, 450_000, 1_500_000])
        for code, shape in SQUARES.items()
    }
    path = write_with_gdal(tmp_path / "communes_l93.shp", metres, field="INSEE_COM")
    background = geographie.load_background(path, "insee_com", "", TWO_TERRITORIES)
    assert not background.geographic and background.aspect == 1.0
    assert background.year is None and "non précisée" in background.caption
    figures.png(carte_situation.locator_map(background, TWO_TERRITORIES, "Nord"))


def test_missing_table_file_is_a_french_error(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    with pytest.raises(ValidationError) as caught:
        geographie.load_background(path, "insee", tmp_path / "absente.csv", TWO_TERRITORIES)
    (error,) = caught.value.errors
    assert "absente.csv" in error.fichier and "introuvable" in error.message


def test_table_contradicting_the_register_is_a_warning(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    table = tmp_path / "communes_territoires.csv"
    table.write_text("code_insee,territoire\n69001,Nord\n69002,Nord\n", "utf-8")
    background = geographie.load_background(path, "insee", table, TWO_TERRITORIES)
    (warning,) = background.warnings
    assert (warning.ligne, warning.valeur) == (3, "Nord") and "« Sud »" in warning.message


def test_preparing_a_background_does_not_import_matplotlib() -> None:
    """The batch's parent prepares the background with its Context, without matplotlib."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from avs_eval import geographie\n"
        "from avs_eval.context import build_context\n"
        "from avs_eval.sources import DataSource\n"
        "context = build_context(DataSource.sample())\n"
        "background = geographie.prepare(context)\n"
        "assert len(background.territory_paths) == 15\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_map_colours_are_the_charts_colours() -> None:
    """One owner for the colours: the maps take the territory's and the types' from figures."""
    assert figures.TERRITORY_COLOR == carte_situation.HIGHLIGHT_COLOR
    for kind in ("CS", "EVS"):
        assert carte_situation.TYPE_STYLES[kind]["color"] == figures.TYPE_COLORS[kind]
    for collectivite, color in figures.COLLECTIVITE_COLORS.items():
        assert carte_situation.collectivite_face(collectivite) == carte_situation.tint(color)


def test_alt_text_gives_what_the_colours_show_without_masked_shares(context, background) -> None:
    figure = cartes.response_rate_map(background, context.table, YEAR)
    alt = figure.alt_text
    assert alt.startswith(figures.title_of(figure)) and alt.startswith("Carte")
    values = cartes.territory_values(context.table, YEAR, RESPONSE_RATE)
    for territoire, row in values.iterrows():
        if row[MASK]:
            assert f"{territoire} s (secret statistique)" in alt
        else:
            assert f"{territoire} {formatting.percentage(row['part'])}" in alt
    locator = carte_situation.locator_map(background, context.dataset, "Val d'Yzeron", YEAR)
    assert "Craponne" in locator.alt_text and locator.alt_text.startswith("Carte de situation")


# --- issue 23: maps never contradict their own text ---------------------------------------


def test_a_lower_is_better_map_is_darker_for_a_lower_share(tmp_path: Path) -> None:
    """Darker always means better: « Difficultés de gouvernance » (`sens: baisse`)."""
    path = write_geojson(tmp_path / "communes.geojson", SQUARES)
    background = geographie.load_background(path, "insee", "", TWO_TERRITORIES)
    table = pd.concat(
        [
            indicator_table([("Nord", 0.9, False), ("Sud", 0.1, False)], "contrat_local"),
            indicator_table([("Nord", 0.9, False), ("Sud", 0.1, False)], "difficultes_gouvernance"),
        ]
    )
    names = ["contrat_local", "difficultes_gouvernance"]
    assert load_catalog().direction("difficultes_gouvernance") == "baisse"
    figure = cartes.synthesis_maps(background, table, YEAR, names)
    shown = {}
    for ax, name in zip(figure.axes, names, strict=True):
        (filled, *_) = [c for c in ax.collections if len(c.get_facecolors()) == 2]
        shown[name] = [matplotlib.colors.to_hex(c) for c in filled.get_facecolors()]
    darkest, lightest = cartes.CLASS_COLORS[-1], cartes.CLASS_COLORS[0]
    assert shown["contrat_local"] == [darkest, lightest]  # Nord 90 %, Sud 10 %
    assert shown["difficultes_gouvernance"] == [lightest, darkest]
    # the legend gives both readings of each colour, and the panel says which it is
    texts = [t.get_text() for t in figure.texts]
    assert any("moins de 20" in t and "80\u202f% ou plus" in t for t in texts)
    assert "moins = mieux" in figure.axes[1].get_title()
    assert "moins = mieux" not in figure.axes[0].get_title()


def _boxes(figure, gid: str) -> list:
    renderer = figure.canvas.get_renderer()
    figure.canvas.draw()
    return [
        (t.get_text(), t.get_bbox_patch().get_window_extent(renderer))
        for ax in figure.axes
        for t in ax.texts
        if t.get_gid() == gid
    ]


@pytest.mark.parametrize("territoire", ["Val de Saône", "Ouest Nord"])
def test_commune_names_never_overlap(context, background, territoire) -> None:
    """« Albigny-sur-Saône » was written over « Saint-Germain-au-Mont-d'Or »."""
    figure = carte_situation.locator_map(background, context.dataset, territoire, YEAR)
    boxes = _boxes(figure, "commune-label")
    assert len(boxes) >= 5
    for k, (name, box) in enumerate(boxes):
        for other, second in boxes[k + 1 :]:
            # grounds apart, with a gap: two grounds that touch read as one name
            assert not box.padded(1).overlaps(second), (name, other)


def test_locator_map_fills_agree_with_its_legend(context, background) -> None:
    """Both panels fill the territory as the legend's « le territoire », and its
    collectivité's other territories as the legend's collectivité entry."""
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    figure = carte_situation.locator_map(background, context.dataset, "Val de Saône", YEAR)
    legend = {
        t.get_text(): t for t in figure.texts if t.get_text().startswith(("le territoire", "les"))
    }
    assert set(legend) == {"le territoire", "les autres territoires : Métropole de Lyon"}
    swatches = {to_hex(a.get_facecolor()) for a in figure.artists if isinstance(a, Rectangle)}
    assert swatches == {
        carte_situation.TERRITORY_FACE,
        carte_situation.collectivite_face("Métropole de Lyon"),
    }
    for ax in figure.axes:
        (territory,) = [c for c in ax.collections if c.get_gid() == "territoire"]
        assert {to_hex(c) for c in territory.get_facecolors()} == {carte_situation.TERRITORY_FACE}
        faces = {to_hex(c) for coll in ax.collections for c in coll.get_facecolors()}
        assert carte_situation.collectivite_face("Métropole de Lyon") in faces
    # the source line once, in the image (the report no longer repeats it under the map)
    assert sum(background.caption in t.get_text().replace("\n", " ") for t in figure.texts) == 1
