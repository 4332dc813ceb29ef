"""The schéma's bilan: its period, its tables against the yearly ones, its secrecy, its
commands, and (slow) its publication and its re-run skipped when nothing changed."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from avs_eval import bilan_lot, paths, secrecy, tables
from avs_eval.cli import main
from avs_eval.config import load_config
from avs_eval.errors import UsageError
from avs_eval.indicators import COLUMNS as INDICATOR_COLUMNS
from avs_eval.options import BatchOptions, ReportOptions
from avs_eval.schema import ALL_PERIMETER, LEVELS

KEYS = ["annee", "niveau", "perimetre", "indicateur", "modalite"]
SAYS_WHY = ("manifest.json", "index.html")  # rewritten by every run: what was re-made, why
CHANGE_KEYS = ["annee", "annee_reference", "niveau", "perimetre", "indicateur"]


def _frame(text: str) -> pd.DataFrame:
    """A CSV in either form: the machine's (`,`) or French Excel's (BOM, `;`)."""
    french = text.startswith("\ufeff")
    return pd.read_csv(
        io.StringIO(text.removeprefix("\ufeff")),
        sep=";" if french else ",",
        dtype=str,
        keep_default_na=False,
    )


@pytest.fixture(scope="module")
def bilan():
    from avs_eval.bilan import BilanReport

    return BilanReport(2022, 2025)


@pytest.fixture
def parameters(tmp_path, monkeypatch) -> Path:
    """A copy of parameters/ the commands may write into (the shipped one is never touched)."""
    copy = tmp_path / "parameters"
    shutil.copytree(paths.PARAMETERS_DIR, copy)
    monkeypatch.setattr(paths, "PARAMETERS_DIR", copy)
    return copy


# --- the period ---------------------------------------------------------------------------


def test_period_is_the_schemas_clipped_to_the_data():
    config = load_config()
    assert bilan_lot.period(config, [2022, 2023, 2024, 2025]) == (2022, 2025)
    assert bilan_lot.period(config, [2021, 2022, 2023, 2026, 2027]) == (2022, 2026)
    assert bilan_lot.period(config, [2022, 2023, 2024], debut=2023) == (2023, 2024)


@pytest.mark.parametrize(
    ("years", "debut", "fin", "said"),
    [
        ([2022, 2023], 2019, None, "--debut 2019 : aucune réponse"),
        ([2022, 2023], None, 2022, "au moins deux années"),
        ([2024], None, None, "au moins deux années"),
    ],
)
def test_period_refused_in_french(years, debut, fin, said):
    with pytest.raises(UsageError, match=said):
        bilan_lot.period(load_config(), years, debut, fin)


def test_folder_names():
    assert bilan_lot.folder_name(2022, 2025) == "bilan-2022-2025"
    assert paths.year_folder(bilan_lot.folder_name(2022, 2025), True) == "bilan-2022-2025-interne"


# --- its tables equal the yearly ones -------------------------------------------------------


def test_trajectories_equal_the_yearly_tables(bilan, tmp_path):
    """Year by year, trajectoires.csv holds the rows the synthesis's indicateurs.csv of that
    year publishes for that year: same figures, same blanks, same secret flags."""
    trajectories = bilan.trajectoires
    assert list(trajectories.columns) == [
        "annee", "niveau", "perimetre", "indicateur", "modalite", "numerateur",
        "denominateur", "part", "ic_bas", "ic_haut", "cible", "atteinte", "secret",
    ]  # fmt: skip
    from avs_eval.bilan import trajectories_csv

    ours = _frame(trajectories_csv(trajectories))
    context = bilan.context
    for year in bilan.years:
        folder = tmp_path / str(year)
        folder.mkdir()
        tables.write_report_tables(
            folder, context, context.table, context.evolutions(year), year, interne=False
        )
        yearly = _frame((folder / "indicateurs.csv").read_text(encoding="utf-8"))
        yearly = yearly[yearly["annee"] == str(year)][INDICATOR_COLUMNS].reset_index(drop=True)
        mine = ours[ours["annee"] == str(year)][INDICATOR_COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, yearly)


def test_targets_and_their_attainment(bilan):
    table = bilan.trajectoires
    row = table[
        (table["annee"] == 2025)
        & (table["niveau"] == "departement")
        & (table["indicateur"] == "permanence_partenaire")
    ].iloc[0]
    assert row["cible"] == pytest.approx(0.6)
    assert bool(row["atteinte"]) == (row["part"] >= 0.6)
    masked = table[table["secret"] & table["cible"].notna()]
    assert masked["atteinte"].isna().all()  # a masked share reaches nothing


def test_changes_equal_the_evolutions_command(bilan, tmp_path, capsys):
    """Over 2022-2025 the references are each question's first year: the internal changes
    are `avs-eval evolutions --annee 2025`, row for row."""
    from avs_eval import evolutions

    output = tmp_path / "evolutions.csv"
    assert main(["evolutions", "--annee", "2025", "--sortie", str(output)]) == 0
    cli = pd.read_csv(output, dtype=str, keep_default_na=False)
    ours = _frame(evolutions.to_csv(bilan.changes()))
    assert set(ours["annee"]) == {"2025"}
    sort = lambda f: f.sort_values(CHANGE_KEYS).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(sort(ours), sort(cli))


def test_changes_from_a_later_start_use_the_periods_first_year(tmp_path):
    """From 2023, a question asked since 2022 is measured from 2023 (`--reference 2023`);
    one asked since 2023 from 2023 too."""
    from avs_eval import evolutions
    from avs_eval.bilan import BilanReport

    late = BilanReport(2023, 2025)
    ours = _frame(evolutions.to_csv(late.changes()))
    assert set(ours["annee_reference"]) == {"2023"}
    output = tmp_path / "evolutions.csv"
    assert main(["evolutions", "--reference", "2023", "--sortie", str(output)]) == 0
    cli = pd.read_csv(output, dtype=str, keep_default_na=False)
    sort = lambda f: f.sort_values(CHANGE_KEYS).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(sort(ours), sort(cli))


# --- secrecy, year by year --------------------------------------------------------------------


def _masked_one_year_only(context, years, indicateur):
    """A territory whose share of `indicateur` is masked in exactly one year of `years`."""
    rows = context.rows(niveau="territoire", indicateur=indicateur, modalite="")
    rows = rows[rows["annee"].isin(years)]
    counts = rows.groupby("perimetre")[secrecy.MASK].sum()
    found = counts[counts == 1]
    return None if found.empty else found.index[0]


def test_a_territory_masked_in_one_year_only(bilan):
    """The sample at its threshold has territories masked one year and shown the others:
    the bilan blanks that year alone, and its change over the period when either end is
    masked; the page shows « s » where a yearly report would."""
    indicateur = "permanence_partenaire"
    territory = _masked_one_year_only(bilan.context, bilan.years, indicateur)
    assert territory is not None, "the sample should hold such a territory"
    table = bilan.trajectoires
    rows = table[
        (table["niveau"] == "territoire")
        & (table["perimetre"] == territory)
        & (table["indicateur"] == indicateur)
        & (table["modalite"] == "")
    ].set_index("annee")
    masked_year = [y for y in bilan.years if rows.loc[y, "secret"]]
    assert len(masked_year) == 1
    hidden = rows.loc[masked_year[0]]
    assert all(hidden[c] is None or pd.isna(hidden[c]) for c in secrecy.PUBLISHED_BLANKS)
    shown = rows.drop(index=masked_year[0])
    assert shown["part"].notna().all() and not shown["secret"].any()
    change = bilan._change("territoire", territory, indicateur)
    end_masked = masked_year[0] in (int(change["annee_reference"]), bilan.fin)
    if end_masked:
        assert change["secret"] and pd.isna(change["part"])
        assert bilan._change_cell("territoire", territory, indicateur) == "s"
    published = bilan.published_changes()
    assert published[["n_apparies", "passes_oui", "passes_non"]].isna().all().all()


def test_published_changes_hide_what_either_year_masks(bilan):
    changes = bilan.published_changes()
    flags = bilan.context.table
    flags = flags[(flags["type"] == ALL_PERIMETER) & (flags["modalite"] == "")]
    keys = ["annee", "niveau", "perimetre", "indicateur", "masque"]
    masked = set(flags[keys].itertuples(index=False, name=None))
    for row in changes.itertuples():
        for year in (row.annee, row.annee_reference):
            if (year, row.niveau, row.perimetre, row.indicateur, True) in masked:
                assert row.secret and row.part is None
    assert set(changes["niveau"]) <= set(LEVELS)


# --- what the page says ------------------------------------------------------------------------


def test_key_messages_and_title(bilan):
    messages = bilan.key_messages()
    assert 4 <= len(messages) <= 8
    assert "Bilan intermédiaire" in bilan.title().data  # 2025 is before 2026
    assert all("s »" not in m for m in messages)


def test_action_block_says_late_and_deadline():
    from avs_eval import suivi, suivi_blocs

    config = load_config()
    action = config.action(1)
    late = suivi.Milestone("Guide diffusé", suivi.PartialDate(2025, 6))
    history = {
        2026: suivi.YearFollowUp(2026, {1: suivi.ActionFollowUp(1, "en_cours", jalons=(late,))})
    }
    block = suivi_blocs.action_block(action, history, 2026).data
    assert "échéance atteinte" in block and "en retard" in block
    assert "Réalisations 2026" in block


# --- the commands ------------------------------------------------------------------------------


def test_suivi_writes_the_template_and_never_overwrites(parameters, capsys):
    target = parameters / "suivi" / "2026.yaml"
    assert not target.exists()
    assert main(["suivi", "--annee", "2026"]) == 0
    assert "créé" in capsys.readouterr().out
    text = target.read_text(encoding="utf-8")
    assert "numero: 4" in text
    target.write_text(text + "# à moi\n", encoding="utf-8")
    assert main(["suivi", "--annee", "2026"]) == 0
    assert "existe déjà" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8").endswith("# à moi\n")


def test_suivi_outside_the_schema_is_refused(parameters, capsys):
    assert main(["suivi", "--annee", "2030"]) == 2
    err = capsys.readouterr().err
    assert "hors de la période du schéma" in err and "Traceback" not in err


def test_commentaires_bilan_writes_its_template_once(parameters, capsys):
    target = parameters / "commentaires" / "bilan.md"
    assert main(["commentaires", "--bilan"]) == 0
    assert "Recommandations pour le prochain schéma" in target.read_text(encoding="utf-8")
    target.write_text("Mes conclusions.\n", encoding="utf-8")
    assert main(["commentaires", "--bilan"]) == 0
    assert "existe déjà" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8") == "Mes conclusions.\n"
    assert main(["commentaires", "--bilan", "--annee", "2025"]) == 2


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--debut", "2019"], "--debut 2019 : aucune réponse"),
        (["--debut", "2024", "--fin", "2023"], "au moins deux années"),
        (["--fin", "deux-mille"], "nombre entier attendu"),
    ],
)
def test_bilan_refuses_in_french(arguments, said, tmp_path, capsys):
    try:
        code = main(["bilan", "--sortie", str(tmp_path / "sortie"), *arguments])
    except SystemExit as stopped:  # argparse's own refusals
        code = stopped.code
    assert code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert not (tmp_path / "sortie" / "bilan-2022-2025").exists()


def test_bilan_invalid_data_exit_1(tmp_path, capsys):
    broken = tmp_path / "reponses.csv"
    broken.write_text("structure_id,annee\nS999,2022\n", encoding="utf-8")
    sample = str(paths.SAMPLE_STRUCTURES)
    code = main(
        ["bilan", "--sortie", str(tmp_path / "sortie"), "--structures", sample,
         "--reponses", str(broken)]
    )  # fmt: skip
    assert code == 1
    assert "Traceback" not in capsys.readouterr().err


def test_bilan_help_lists_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["bilan", "--help"])
    out = capsys.readouterr().out
    for option in ("--debut", "--fin", "--sortie", "--pdf", "--interne", "--min-effectif",
                   "--structures", "--reponses", "--classeur"):  # fmt: skip
        assert option in out


# --- slow: the bilan made, published, and not re-made ------------------------------------------


@pytest.mark.lent
def test_bilan_published_whole_then_skipped(tmp_path):
    options = BatchOptions(report=ReportOptions(), sortie=tmp_path, progress=False)
    record = bilan_lot.run(options, say=lambda text: None)
    folder = tmp_path / "bilan-2022-2025"
    assert record.exit_code() == 0
    for name in ("bilan.ipynb", "bilan.html", "trajectoires.csv", "evolutions.csv",
                 "suivi_actions.csv", "bilan.xlsx", "index.html", "manifest.json"):  # fmt: skip
        assert (folder / name).is_file(), name
    page = (folder / "bilan.html").read_text(encoding="utf-8")
    assert "Bilan intermédiaire du schéma 2022-2026" in page and "À retenir du schéma" in page
    assert re.search(r"Enquêtes 2022-2025 \(fichiers du \d\d/\d\d/\d{4}\)", page)
    assert not list(tmp_path.glob(".bilan-*"))  # no staging left
    follow_up = pd.read_csv(folder / "suivi_actions.csv", sep=";", encoding="utf-8-sig")
    assert list(follow_up.columns) == [
        "annee", "action", "intitule", "debut", "fin", "etat", "realisations",
        "jalons_prevus", "jalons_realises", "jalons_en_retard",
    ]  # fmt: skip
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name not in SAYS_WHY}

    again = bilan_lot.run(options, say=lambda text: None)
    assert [o.remade for o in again.outcomes] == [False]
    assert "repris" in again.summary()
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.name not in SAYS_WHY}
    assert after == before  # carried over byte for byte
    assert "Bilan 2022-2025" in (folder / "index.html").read_text(encoding="utf-8")


def test_period_from_known_data_needs_no_reading(tmp_path):
    """Without any earlier batch, the plan does not know the period before reading."""
    options = BatchOptions(report=ReportOptions(), sortie=tmp_path, progress=False)
    chosen = bilan_lot.plan(options)
    assert chosen.year is None and not chosen.idle
    context = chosen.read(lambda text: None)
    assert chosen.year == "bilan-2022-2025" and chosen.folder == "bilan-2022-2025"
    assert [job.stem for job in chosen.jobs(chosen.decide({}, tmp_path, {".": ""}), tmp_path,
                                             tmp_path)] == ["bilan"]  # fmt: skip
    assert context.dataset.years == [2022, 2023, 2024, 2025]
