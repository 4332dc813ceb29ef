"""The `avs-eval` command end to end: French output, exit codes, never a traceback."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from conftest import MINI_DIR, MiniData, data_options, run_cli

from avs_eval import paths
from avs_eval.cli import main
from avs_eval.indicators import COLUMNS

HEADER = ",".join(COLUMNS)


def mini_options(folder: Path) -> list[str]:
    return data_options(folder / "structures.csv", folder / "reponses.csv")


# --- through a subprocess, as a user runs it ---------------------------------------------


def test_valider_accepts_relative_paths_from_the_working_directory(cli, tmp_path: Path):
    for name in ("structures.csv", "reponses.csv"):
        shutil.copy(MINI_DIR / name, tmp_path / name)
    result = cli(
        "valider", "--structures", "structures.csv", "--reponses", "reponses.csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Données valides : 8 structures" in result.stdout
    assert "5 réponses sur 7 structures agréées" in result.stdout


def test_valider_on_valid_data_exits_0_with_french_summary(capsys):
    assert main(["valider", *mini_options(MINI_DIR)]) == 0
    out = capsys.readouterr().out
    assert "Données valides : 8 structures (5 centres sociaux, 3 espaces de vie sociale)" in out
    assert "3 territoires" in out
    assert "2024 : 6 réponses sur 7 structures agréées" in out


def test_valider_on_bad_data_exits_1_naming_file_line_column_and_value(cli, mini: MiniData):
    mini.set("reponses", 4, "communication_canaux", "blog")
    mini.set("structures", 3, "code_insee", "75056")
    structures, reponses = mini.write()
    result = cli("valider", *data_options(structures, reponses), cwd=mini.folder)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "2 erreurs dans les données" in result.stderr
    assert "reponses.csv, ligne 4, colonne « communication_canaux », valeur « blog »" in (
        result.stderr
    )
    assert "code inconnu" in result.stderr
    assert "structures.csv, ligne 3, colonne « code_insee », valeur « 75056 »" in result.stderr


def test_valider_on_reponses_without_data_row_exits_1(capsys, mini: MiniData):
    mini.keep_lines("reponses", [])
    structures, reponses = mini.write()
    assert main(["valider", *data_options(structures, reponses)]) == 1
    assert "reponses.csv : aucune ligne de données" in capsys.readouterr().err


def test_indicateurs_writes_csv_with_contract_header_to_stdout(capsys):
    assert main(["indicateurs", *mini_options(MINI_DIR)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(out)))
    lyon = next(
        r
        for r in rows
        if (r["annee"], r["perimetre"], r["indicateur"]) == ("2023", "Lyon", "taux_reponse")
    )
    assert (lyon["numerateur"], lyon["denominateur"], lyon["part"]) == ("3", "3", "1.0")
    assert {r["secret"] for r in rows} == {"True", "False"}


def test_indicateurs_sortie_writes_the_file_in_the_working_directory(cli, tmp_path: Path):
    result = cli("indicateurs", *mini_options(MINI_DIR), "--sortie", "sortie/ind.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "sortie" / "ind.csv"
    assert written.read_text(encoding="utf-8").splitlines()[0] == HEADER
    assert result.stdout == ""
    assert "lignes écrites" in result.stderr


@pytest.mark.parametrize("command", ["indicateurs", "evolutions"])
def test_format_excel_gives_the_published_tables_french_form(tmp_path: Path, command: str):
    target = tmp_path / f"{command}.csv"
    result = run_cli(command, "--territoire", "Lyon", "--format", "excel", "--sortie", str(target),
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # BOM: Excel reads UTF-8
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    header = list(rows[0])
    assert header[header.index("indicateur") + 1] == "libelle"
    assert {r["secret"] for r in rows} <= {"oui", "non"}
    shares = [r["part"] for r in rows if r["part"]]
    assert shares and all("," in v or v in ("0", "1") for v in shares)
    assert all(len(v.split(",")[-1]) <= 4 for v in shares if "," in v)  # 4 decimals
    assert any(r["libelle"] for r in rows)
    # the machine form stays the default: what programs read
    machine = run_cli(command, "--territoire", "Lyon", cwd=tmp_path)
    assert machine.stdout.splitlines()[0].startswith("annee,") and "\ufeff" not in machine.stdout


def test_lab_starts_the_evaluators_jupyterlab_with_the_options_given(monkeypatch, capsys):
    from avs_eval import lab

    given = []
    monkeypatch.setattr(lab, "main", lambda extra=None: given.append(extra) or 0)
    assert main(["lab"]) == 0
    assert main(["lab", "--", "--port=8890", "--no-browser"]) == 0
    assert given == [[], ["--port=8890", "--no-browser"]]
    with pytest.raises(SystemExit):
        main(["lab", "--help"])
    out = capsys.readouterr().out
    assert "JupyterLab" in out and "afficher cette aide" in out and "usage:" not in out


def test_indicateurs_unknown_territory_fails_listing_known_territories(capsys):
    assert main(["indicateurs", *mini_options(MINI_DIR), "--territoire", "Lyonn"]) != 0
    captured = capsys.readouterr()
    assert "territoire inconnu" in captured.err
    for known in ("Lyon", "Ouest Rhône", "Villeurbanne"):
        assert known in captured.err
    assert captured.out == ""


def test_structures_without_reponses_is_a_french_usage_error(capsys):
    assert main(["valider", "--structures", str(MINI_DIR / "structures.csv")]) == 2
    assert "--structures et --reponses vont ensemble" in capsys.readouterr().err


def test_help_is_in_french(cli, tmp_path: Path):
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "utilisation" in result.stdout and "options" in result.stdout
    assert "usage:" not in result.stdout and "show this help" not in result.stdout
    assert "valider" in result.stdout and "indicateurs" in result.stdout


# --- in process ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["valider", "indicateurs"])
def test_command_help_is_in_french(capsys, command):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "utilisation" in out and "options" in out and "--structures" in out
    assert "afficher cette aide" in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "utilisation" in capsys.readouterr().out


def test_argument_error_is_in_french(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["indicateurs", "--annee", "deux-mille"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "nombre entier attendu" in err and "utilisation" in err


def test_unknown_command_is_in_french(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["valide"])
    assert exited.value.code == 2
    assert "choix" in capsys.readouterr().err


def test_classeur_with_structures_is_a_usage_error(capsys, tmp_path: Path):
    code = main(["valider", "--classeur", str(tmp_path / "c.xlsx"), *mini_options(MINI_DIR)])
    assert code == 2
    assert "soit --classeur" in capsys.readouterr().err


def test_indicateurs_options_filter_year_and_threshold(capsys):
    code = main(["indicateurs", *mini_options(MINI_DIR), "--annee", "2024", "--min-effectif", "2"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["annee"] for r in rows} == {"2024"}
    assert all((r["secret"] == "True") == (int(r["denominateur"]) < 2) for r in rows)


def test_indicateurs_territoire_keeps_its_perimeters(capsys):
    code = main(["indicateurs", *mini_options(MINI_DIR), "--territoire", "Villeurbanne"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["perimetre"] for r in rows} == {"Villeurbanne", "Métropole de Lyon", "Ensemble"}


def test_indicateurs_year_outside_period_is_a_usage_error(capsys):
    code = main(["indicateurs", *mini_options(MINI_DIR), "--annee", "2030"])
    assert code == 2
    err = capsys.readouterr().err
    assert "2030" in err and "période" in err


def test_valider_prints_warnings_but_accepts_data(capsys, mini: MiniData):
    mini.set("reponses", 3, "permanence_partenaires", "caf")
    structures, reponses = mini.write()
    code = main(["valider", "--structures", str(structures), "--reponses", str(reponses)])
    assert code == 0
    out = capsys.readouterr().out
    assert "1 avertissement" in out
    assert "reponses.csv, ligne 3, colonne « permanence_partenaires »" in out


def test_valider_reads_a_classeur(capsys, mini: MiniData):
    classeur = mini.write_workbook()
    assert main(["valider", "--classeur", str(classeur)]) == 0
    assert "Données valides : 8 structures" in capsys.readouterr().out


# --- the embedded sample (data/exemple/) ------------------------------------------------------

needs_sample = pytest.mark.skipif(
    not paths.SAMPLE_STRUCTURES.exists(), reason="échantillon data/exemple/ pas encore généré"
)


@needs_sample
def test_valider_without_data_options_checks_the_sample(capsys):
    assert main(["valider"]) == 0
    assert "Données valides" in capsys.readouterr().out


@needs_sample
def test_indicateurs_without_data_options_uses_the_sample(capsys):
    assert main(["indicateurs"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == HEADER
    assert len(out.splitlines()) > 1
