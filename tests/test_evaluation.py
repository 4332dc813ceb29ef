"""From figures to an evaluation: « À retenir », verdicts, commentary, the partner edition.

The partner edition is what the index calls « ready to send »: these tests read every
file a batch publishes (HTML, CSV, XLSX) as a partner would, and look for what must
not be there.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import copy_project, run_cli

from avs_eval import analyse, commentaires, evolutions, formatting, secrecy
from avs_eval.context import build_context, slug
from avs_eval.sources import DataSource

COMMENT = """## Chiffres clés

La **permanence** progresse ; l'équipe a noté un effet « été ».

<script>alert('x')</script> <img src=http://exemple.org/pixel.png>

![photo](http://exemple.org/photo.png)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("evaluation") / "avs-eval")


@pytest.fixture(scope="module")
def published(project: Path) -> Path:
    """A partner-edition batch for two territories, one of them mostly secret, with comments."""
    done = run_cli("commentaires", project=project)
    assert done.returncode == 0, done.stderr
    (project / "parameters" / "commentaires" / "2025" / "lyon.md").write_text(
        COMMENT, encoding="utf-8"
    )
    out = project / "outputs"
    for _ in range(2):  # the commentary survives a second batch
        done = run_cli(
            "rapports",
            "--territoire",
            "Lyon",
            "Val de Saône",
            "--sortie",
            str(out),
            project=project,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return out / "2025"


# --- commentary -------------------------------------------------------------------------


@pytest.mark.lent
def test_commentaires_creates_templates_and_never_overwrites(project, published):
    folder = project / "parameters" / "commentaires" / "2025"
    names = {p.name for p in folder.glob("*.md")}
    assert {"lyon.md", "val-de-saone.md", "synthese.md"} <= names
    template = (folder / "val-de-saone.md").read_text(encoding="utf-8")
    assert "## Chiffres clés" in template and "## Indicateur 2 :" in template
    done = run_cli("commentaires", project=project)
    assert done.returncode == 0
    kept = f"0 fichier de commentaire créé, {len(names)} déjà présents et laissés tels quels"
    assert kept in done.stdout
    assert (folder / "lyon.md").read_text(encoding="utf-8") == COMMENT


@pytest.mark.lent
def test_commentary_renders_as_text_and_survives_batches(published):
    page = (published / "lyon" / "rapport.html").read_text(encoding="utf-8")
    assert "Analyse de l&#39;évaluateur" in page or "Analyse de l'évaluateur" in page
    # in the section it comments, below its heading, not in a section of its own
    key_figures = page.split('id="chiffres-cles"', 1)[1].split("<h2", 2)[1]
    assert "<strong>permanence</strong>" in key_figures
    assert "<strong>permanence</strong>" in page
    assert "effet « été »" in html.unescape(page)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert '<img src="http://exemple.org' not in page and "<img src=http" not in page
    assert "[image non affichée : photo]" in html.unescape(page)
    # a report whose file holds only the template's headings says nothing about it
    other = (published / "val-de-saone" / "rapport.html").read_text(encoding="utf-8")
    assert "Analyse de l" not in other


def test_render_keeps_markdown_and_escapes_html():
    rendered = commentaires.render("**gras** <b>x</b> [lien](javascript:alert(1)) é")
    assert "<strong>gras</strong>" in rendered and "&lt;b&gt;" in rendered
    assert "javascript:" not in rendered


# --- partner edition ----------------------------------------------------------------------

INTERNAL = [
    "Empreinte SHA-256",
    "usage interne",
    "désactivé",
    "Édition interne",
    "Qualité des données",
    "Réponses laissées vides",
]


@pytest.mark.lent
def test_partner_edition_shows_nothing_internal(published):
    context = build_context(DataSource.sample())
    missing = context.population
    missing = missing[(missing["annee"] == 2025) & ~missing["repondant"]]
    for page in published.rglob("*.html"):
        text = html.unescape(page.read_text(encoding="utf-8"))
        for item in INTERNAL:
            assert item not in text, (page.name, item)
        for name in missing["nom"]:
            assert name not in text, (page, name)
        assert re.search(r"seuil de secret statistique : \d+ structures", text) or page.name == (
            "index.html"
        )


def file_times(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def internal(project: Path, published: Path) -> dict:
    """Lyon's internal edition, made once by a batch after the partner edition, with the
    times of the partner edition's files before and after that batch."""
    out = project / "outputs"
    before = file_times(published)
    done = run_cli(
        "rapports", "--territoire", "Lyon", "--interne", "--sortie", str(out), project=project
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {"folder": out / "2025-interne", "before": before, "after": file_times(published)}


@pytest.mark.lent
def test_internal_edition_has_them(internal):
    page = html.unescape((internal["folder"] / "lyon" / "rapport.html").read_text("utf-8"))
    assert "Édition interne — ne pas diffuser" in page
    assert "Empreinte SHA-256" in page and "Réponses laissées vides" in page
    context = build_context(DataSource.sample())
    assert secrecy.summary(context.table, 2025).replace("secret", "Secret", 1) in page
    pop = context.population
    missing = pop[(pop["annee"] == 2025) & (pop["territoire"] == "Lyon") & ~pop["repondant"]]
    assert all(name in page for name in missing["nom"])


def _masked_rows(context) -> pd.DataFrame:
    table = context.table
    return table[table["masque"] & (table["type"] == "Ensemble") & table["part"].notna()]


@pytest.mark.lent
def test_published_tables_hold_no_secret_figure(published):
    context = build_context(DataSource.sample())
    masked = _masked_rows(context)
    keys = set(
        zip(masked["annee"], masked["niveau"], masked["perimetre"], masked["indicateur"],
            masked["modalite"], strict=True)
    )  # fmt: skip
    folders = [published / "lyon", published / "val-de-saone", published]
    checked = 0
    for folder in folders:
        with open(folder / "indicateurs.csv", encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                key = (int(row["annee"]), row["niveau"], row["perimetre"], row["indicateur"],
                       row["modalite"])  # fmt: skip
                if key in keys:
                    checked += 1
                    assert row["secret"] == "oui"
                    for column in ("numerateur", "denominateur", "part", "ic_bas", "ic_haut"):
                        assert row[column] == "", (folder.name, key, column)
        changes = pd.read_csv(
            folder / "evolutions.csv", sep=";", encoding="utf-8-sig", keep_default_na=False
        )
        assert (changes[evolutions.PAIRED] == "").all().all()  # never the paired counts
        secret = changes[changes["secret"].astype(str) == "oui"]
        assert (secret[evolutions.FIGURES] == "").all().all()
        workbook = openpyxl.load_workbook(folder / "indicateurs.xlsx", read_only=True)
        for sheet in workbook.worksheets[1:]:
            rows = list(sheet.iter_rows(values_only=True))
            if sheet.title == "Évolutions" or not rows:
                continue
            header = rows[0]
            for values in rows[1:]:
                record = dict(zip(header, values, strict=True))
                if record["Part"] == "s":
                    assert record["Numérateur"] == "s" and record["IC bas"] == "s"
    assert checked > 10  # the mostly secret territory and the department's tables have many


@pytest.mark.lent
def test_reports_show_a_change_since_2023_for_actions_3_and_4(published):
    page = html.unescape((published / "lyon" / "rapport.html").read_text(encoding="utf-8"))
    key_figures = page.split("Chiffres clés", 2)[2].split("Indicateur 1 :")[0]
    row = key_figures.split("Projet social présenté et reconnu", 1)[1].split("</tr>")[0]
    assert "depuis 2023" in row
    assert re.search(r"[+−]\d+\u202fpts?", row)


@pytest.mark.lent
def test_a_retenir_of_a_mostly_secret_territory_points_to_its_collectivite(published):
    page = html.unescape((published / "val-de-saone" / "rapport.html").read_text("utf-8"))
    retenir = page.split('class="avs-retenir"', 1)[1].split("</ul>")[0]
    assert "relèvent du secret statistique" in retenir
    assert "Métropole de Lyon" in retenir
    # the collectivité's figures for reference, none of the territory's own
    territory = retenir.split("Pour référence")[0]
    assert not re.search(r"\d+\u202f%", territory)
    assert re.search(r"\d+\u202f%", retenir.split("Pour référence")[1])


# --- « À retenir » and verdicts on fixtures ------------------------------------------------


def test_verdicts_follow_the_paired_test_and_the_direction():
    net_up = pd.Series({"significatif": True, "ecart_apparie": 0.2})
    net_down = pd.Series({"significatif": True, "ecart_apparie": -0.1})
    flat = pd.Series({"significatif": False, "ecart_apparie": 0.3})
    assert analyse.verdict(net_up) == "hausse nette (progrès)"
    assert analyse.verdict(net_down, "baisse") == "baisse nette (progrès)"
    assert analyse.verdict(net_down) == "baisse nette (recul)"
    assert analyse.verdict(flat) == "stable ou dans la marge d'incertitude"
    assert analyse.verdict(flat, few=True).startswith("non concluant : trop peu de structures")
    assert analyse.target_reached(0.2, 0.25, "baisse")
    assert analyse.target_reached(0.796, 0.80)  # « 80 % pour une cible de 80 % »: reached


@pytest.fixture(scope="module")
def lyon():
    from avs_eval.report import TerritoryReport

    return TerritoryReport("Lyon", 2025)


def test_the_actions_timeline_is_drawn_once_for_every_report_of_the_year(lyon):
    """The timeline is the department's: a warm kernel draws it once for all its reports,
    and again only for another year (or another follow-up)."""
    from avs_eval.report import TerritoryReport

    picture = lyon.frise()
    assert TerritoryReport("Villeurbanne", 2025).frise() is picture
    assert picture.data.startswith(b"\x89PNG") and picture.alt
    earlier = TerritoryReport("Lyon", 2024).frise()
    assert earlier is not picture and earlier.data != picture.data


def test_a_retenir_states_targets_reached(lyon):
    messages = lyon.key_messages()
    assert 3 <= len(messages) <= 6
    reached = next(m for m in messages if m.startswith("Les cinq cibles sont atteintes"))
    assert "permanence d'un partenaire (76\u202f% pour une cible de 60\u202f%)" in reached
    assert messages[0] == (
        "En 2025, 27 des 29 structures agréées du territoire ont répondu à l'enquête (93\u202f%)."
    )


def test_a_retenir_states_a_significant_change(lyon, monkeypatch):
    change = pd.Series(
        {"significatif": True, "ecart_apparie": 0.25, "ecart": 0.21, "annee_reference": 2023,
         "secret": False, "part_reference": 0.52, "part": 0.73}
    )  # fmt: skip
    monkeypatch.setattr(
        type(lyon), "_change", lambda self, i: change if i == "projet_social_partage" else None
    )
    messages = lyon.key_messages()
    net = next(m for m in messages if m.startswith("Progrès nets"))
    assert "en hausse, projet social reconnu (+21\u202fpts depuis 2023)" in net


def test_a_large_change_on_few_structures_is_said_inconclusive(lyon):
    messages = lyon.key_messages()
    sentence = next(m for m in messages if "trop peu pour conclure" in m)
    assert sentence.startswith("Accompagnement face aux difficultés : +63\u202fpts depuis 2023")
    assert "8 structures répondantes" in sentence


def test_net_changes_are_grouped_by_verdict():
    up = pd.Series({"ecart_apparie": 0.2, "ecart": 0.2, "annee_reference": 2022})
    down = pd.Series({"ecart_apparie": -0.1, "ecart": -0.1, "annee_reference": 2023})
    changes = [
        analyse.Change("a", up, "hausse"),
        analyse.Change("b", up, "hausse"),
        analyse.Change("c", down, "baisse"),
        analyse.Change("d", down, "hausse"),
    ]
    sentences = analyse.grouped_changes(changes, with_points=False, where=" pour l'ensemble")
    assert sentences == [
        "Progrès nets pour l'ensemble : en hausse, a et b ; en baisse, c.",
        "Reculs nets pour l'ensemble : en baisse, d.",
    ]


def test_target_sentences_count_in_words_and_agree():
    results = [("a", 0.7, 0.6, "hausse"), ("b", 0.5, 0.6, "hausse")]
    assert analyse.target_messages(results, "en 2025") == [
        "Une cible sur deux est atteinte en 2025 : a (70\u202f% pour une cible de 60\u202f%).",
        "Cible non atteinte en 2025 : b (50\u202f% pour une cible de 60\u202f%).",
    ]


def test_share_cell_rounds_halves_away_from_zero_and_the_internal_edition_marks_secrets():
    from avs_eval.blocs import share_cell

    row = pd.Series(
        {"part": 5 / 8, "ic_bas": 0.305, "ic_haut": 0.8632, "denominateur": 8,
         "numerateur": 5, "masque": False}
    )  # fmt: skip
    cell = share_cell(row)
    assert cell.startswith("63\u202f%<br>")  # not « 62 % » (half to even on the float)
    assert html.escape(formatting.share_detail(0.305, 0.8632, 8)) in cell
    assert "white-space:nowrap" in cell
    masked = row.copy()
    masked["masque"] = True
    assert share_cell(masked) == "s"
    internal = share_cell(masked, interne=True)
    assert "5/8" in internal and "non\u00a0diffusable" in internal


def test_the_provenance_shows_the_final_folder_not_the_staging_one():
    from avs_eval.base_report import final_path

    assert final_path("/srv/outputs/.2025-interne.en-cours-4242/lyon") == (
        "/srv/outputs/2025-interne/lyon"
    )
    assert final_path("outputs/.2025.en-cours-17") == "outputs/2025"
    assert final_path("outputs/2025/lyon") == "outputs/2025/lyon"


def test_commentary_parts_go_to_their_sections():
    text = (
        "<!-- consigne -->\nAvant tout titre.\n\n## Analyse générale\n\nGénéral.\n\n"
        "## 4. Chiffres clés\n\nDes chiffres.\n\n### Détail\n\nPlus.\n\n"
        "## Titre inconnu\n\nAilleurs.\n\n## Méthode\n"
    )
    parts = commentaires.parts(text, ["À retenir", "Chiffres clés", "Méthode"])
    assert set(parts) == {commentaires.GENERAL, "Chiffres clés"}
    general = parts[commentaires.GENERAL]
    assert "Avant tout titre." in general and "Général." in general
    assert "**Titre inconnu**" in general and "Ailleurs." in general  # nothing lost
    assert "<h4>Détail</h4>" in commentaires.box(parts["Chiffres clés"])


def test_short_labels_for_sentences():
    from avs_eval.catalog import load_catalog

    catalog = load_catalog()
    assert catalog.short_label("permanence_partenaire") == "permanence d'un partenaire"
    assert catalog.short_label("taux_reponse") == "taux de réponse"
    for name, item in catalog.by_name.items():
        short = catalog.short_label(name)
        assert short and short != item.libelle and "_" not in short, name


def test_sentences_never_state_a_masked_figure():
    from avs_eval.report import TerritoryReport

    context = build_context(DataSource.sample())
    checked = 0
    for territoire in context.dataset.territories:
        report = TerritoryReport(territoire, 2025)
        # the collectivité's figures, given for reference, may equal a masked one by chance
        text = " ".join(m for m in report.key_messages() if not m.startswith("Pour référence"))
        for indicateur in report.key_indicators():
            row = report._row("territoire", territoire, indicateur)
            if row is None or not row["masque"] or pd.isna(row["part"]):
                continue
            checked += 1
            if indicateur == "taux_reponse":
                assert "agréées du territoire ont répondu" not in text, territoire
            else:
                shown = formatting.percentage(row["part"])
                assert f"{report._named(indicateur)} ({shown}" not in text
                assert f"{report._named(indicateur)} :" not in text  # nor its change
    assert checked > 20


def test_slug_of_commentary_matches_the_report_folder():
    assert commentaires.path_for(2025, slug("Val de Saône")).name == "val-de-saone.md"


def test_evolutions_csv_of_cli_keeps_the_counts(tmp_path):
    done = run_cli("evolutions", "--territoire", "Lyon")
    table = pd.read_csv(io.StringIO(done.stdout))
    assert table["n_apparies"].notna().any()  # internal: the paired counts are there


@pytest.mark.lent
def test_rapports_interne_goes_to_its_own_folder(internal):
    folder = internal["folder"]
    page = html.unescape((folder / "lyon" / "rapport.html").read_text(encoding="utf-8"))
    assert "Édition interne — ne pas diffuser" in page and "Empreinte SHA-256" in page
    assert "Édition interne" in (folder / "index.html").read_text(encoding="utf-8")
    table = pd.read_csv(
        folder / "indicateurs.csv",
        sep=";",
        encoding="utf-8-sig",
        keep_default_na=False,
        dtype=str,
    )
    assert (table[table["secret"] == "oui"]["part"] != "").any()  # complete, with the flag
    assert internal["after"] == internal["before"]  # the partners' folder is untouched


@pytest.mark.lent
def test_index_links_the_tables_of_each_report(published):
    index = (published / "index.html").read_text(encoding="utf-8")
    for name in ("lyon/indicateurs.xlsx", "lyon/evolutions.csv", "indicateurs.xlsx"):
        assert f'href="{name}"' in index


@pytest.mark.lent
def test_reports_hold_their_maps(published):
    """The synthesis maps each headline figure and the response rate; a territory, itself."""
    synthesis = html.unescape((published / "synthese.html").read_text(encoding="utf-8"))
    assert 'alt="Carte des indicateurs clés par territoire' in synthesis
    assert 'alt="Carte du taux de réponse' in synthesis
    assert "géographie 2018" in synthesis  # the caption gives the shapes' year
    page = html.unescape((published / "lyon" / "rapport.html").read_text(encoding="utf-8"))
    assert re.search(r'alt="Carte[^"]*Lyon', page)
    assert "Communes du territoire : Lyon" in page
