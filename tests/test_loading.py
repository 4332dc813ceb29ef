"""The data contract: every error named where the user can find it, every accepted spelling read.

Each test edits a copy of the mini fixture (tests/fixtures/mini) in tmp_path; rows are
spreadsheet row numbers (header = 1): structures S1..S8 are rows 2..9, reponses rows 2..12.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import MiniData, load_or_raise, raised, write_workbook

from avs_eval import indicators
from avs_eval.errors import Finding
from avs_eval.loading import code_column

S, R = "structures", "reponses"
S_FILE, R_FILE = "structures.csv", "reponses.csv"


def only_finding(findings: list[Finding], **expected) -> Finding:
    """The finding matching file, line, column and value; fails listing all of them."""
    keys = ("fichier", "ligne", "colonne", "valeur")
    matches = [f for f in findings if all(getattr(f, k) == expected[k] for k in keys)]
    listing = "\n".join(str(f) for f in findings)
    assert matches, f"aucune erreur attendue {expected} parmi :\n{listing}"
    assert len(matches) == 1, listing
    return matches[0]


# --- one test per error kind ---------------------------------------------------------


def _unknown_code(m: MiniData):
    m.set(R, 2, "communication_canaux", "site_internet;blog")
    return R_FILE, 2, "communication_canaux", "site_internet;blog", "code inconnu"


def _unknown_yes_no(m: MiniData):
    m.set(R, 3, "instances_coordination", "peut-être")
    return R_FILE, 3, "instances_coordination", "peut-être", "oui/non"


def _unknown_yes_no_in_structures(m: MiniData):
    m.set(S, 4, "qpv", "bof")
    return S_FILE, 4, "qpv", "bof", "oui/non"


def _missing_structures_column(m: MiniData):
    m.drop_column(S, "commune")
    return S_FILE, 1, "commune", "(absente)", "obligatoire absente"


def _missing_reponses_column(m: MiniData):
    m.drop_column(R, "annee")
    return R_FILE, 1, "annee", "(absente)", "obligatoire absente"


def _duplicate_structure_id(m: MiniData):
    line = m.append_copy(S, 3, structure_id="S1")
    return S_FILE, line, "structure_id", "S1", "double"


def _duplicate_response_key(m: MiniData):
    line = m.append_copy(R, 3, structure_id="S1", annee="2023")
    return R_FILE, line, "structure_id", "S1", "double"


def _unknown_structure(m: MiniData):
    m.set(R, 4, "structure_id", "S99")
    return R_FILE, 4, "structure_id", "S99", "inconnue"


def _year_outside_period(m: MiniData):
    m.set(R, 5, "annee", "2021")
    return R_FILE, 5, "annee", "2021", "période"


def _year_after_period(m: MiniData):
    m.set(R, 12, "annee", "2027")
    return R_FILE, 12, "annee", "2027", "période"


def _year_not_a_number(m: MiniData):
    m.set(R, 6, "annee", "deux mille")
    return R_FILE, 6, "annee", "deux mille", "année"


def _code_insee_outside_department(m: MiniData):
    m.set(S, 7, "code_insee", "38185")
    return S_FILE, 7, "code_insee", "38185", "INSEE"


def _code_insee_too_short(m: MiniData):
    m.set(S, 8, "code_insee", "6924")
    return S_FILE, 8, "code_insee", "6924", "INSEE"


def _unknown_collectivite(m: MiniData):
    m.set(S, 8, "collectivite", "Département de l'Isère")
    return S_FILE, 8, "collectivite", "Département de l'Isère", "collectivité"


def _territory_in_two_collectivites(m: MiniData):
    m.set(S, 9, "collectivite", "Métropole de Lyon")  # S8, Ouest Rhône, like S7 in Rhône
    return S_FILE, 9, "collectivite", "Métropole de Lyon", "deux collectivités"


def _answer_before_approval(m: MiniData):
    line = m.append_copy(R, 9, annee="2023")  # S4 is approved from 2024
    return R_FILE, line, "structure_id", "S4", "agréée"


def _answer_after_approval(m: MiniData):
    line = m.append_copy(R, 5, annee="2024")  # S5 is approved until 2023
    return R_FILE, line, "structure_id", "S5", "agréée"


def _empty_required_structure_cell(m: MiniData):
    m.set(S, 2, "nom", "")
    return S_FILE, 2, "nom", "", "obligatoire"


def _empty_structure_id_in_reponses(m: MiniData):
    m.set(R, 7, "structure_id", "")
    return R_FILE, 7, "structure_id", "", "obligatoire"


def _empty_year_in_reponses(m: MiniData):
    m.set(R, 8, "annee", "")
    return R_FILE, 8, "annee", "", "obligatoire"


def _debut_after_fin(m: MiniData):
    line = m.append_copy(S, 2, structure_id="S9", annee_debut="2025", annee_fin="2023")
    return S_FILE, line, "annee_debut", "2025", "début"


def _structure_year_not_a_number(m: MiniData):
    m.set(S, 5, "annee_debut", "2024-01")
    return S_FILE, 5, "annee_debut", "2024-01", "année"


def _header_given_twice(m: MiniData):
    m.add_column(S, "Nom ")
    return S_FILE, 1, "Nom", "Nom", "deux fois"


def _unknown_structure_type(m: MiniData):
    m.set(S, 3, "type", "MJC")
    return S_FILE, 3, "type", "MJC", "type inconnu"


CELL_ERRORS = [
    _unknown_code,
    _unknown_yes_no,
    _unknown_yes_no_in_structures,
    _missing_structures_column,
    _missing_reponses_column,
    _duplicate_structure_id,
    _duplicate_response_key,
    _unknown_structure,
    _year_outside_period,
    _year_after_period,
    _year_not_a_number,
    _code_insee_outside_department,
    _code_insee_too_short,
    _unknown_collectivite,
    _territory_in_two_collectivites,
    _answer_before_approval,
    _answer_after_approval,
    _empty_required_structure_cell,
    _empty_structure_id_in_reponses,
    _empty_year_in_reponses,
    _debut_after_fin,
    _structure_year_not_a_number,
    _header_given_twice,
    _unknown_structure_type,
]


@pytest.mark.parametrize("edit", CELL_ERRORS, ids=lambda f: f.__name__.strip("_"))
def test_error_names_file_line_column_and_value_in_french(mini: MiniData, edit):
    fichier, ligne, colonne, valeur, word = edit(mini)
    invalid = mini.errors()
    finding = only_finding(
        invalid.errors, fichier=fichier, ligne=ligne, colonne=colonne, valeur=valeur
    )
    assert word.casefold() in finding.message.casefold()
    text = str(finding)
    assert fichier in text and f"ligne {ligne}" in text and colonne in text
    assert "erreur" in invalid.report()


def test_unknown_list_code_message_lists_accepted_codes(mini: MiniData):
    mini.set(R, 3, "contrats", "CTG ; contrat de ville")
    finding = only_finding(
        mini.errors().errors,
        fichier=R_FILE,
        ligne=3,
        colonne="contrats",
        valeur="CTG ; contrat de ville",
    )
    assert "contrat de ville" in finding.message
    assert "contrat_ville" in finding.message  # the accepted codes are listed


def test_error_column_is_named_as_written_in_the_header(mini: MiniData):
    mini.rename_column(S, "code_insee", " Code_INSEE ")
    mini.set(S, 2, "code_insee", "75056")
    finding = only_finding(
        mini.errors().errors, fichier=S_FILE, ligne=2, colonne="Code_INSEE", valeur="75056"
    )
    assert "INSEE" in finding.message


# --- whole-file errors -----------------------------------------------------------------


def _structures_without_data_row(m: MiniData):
    m.keep_lines(S, [])
    s, r = m.write()
    return (s, r, None), S_FILE


def _reponses_without_data_row(m: MiniData):
    m.keep_lines(R, [])
    s, r = m.write()
    return (s, r, None), R_FILE


def _empty_structures_file(m: MiniData):
    s, r = m.write()
    s.write_bytes(b"")
    return (s, r, None), S_FILE


def _blank_reponses_file(m: MiniData):
    s, r = m.write()
    r.write_bytes(b"\xef\xbb\xbf\r\n  \r\n")
    return (s, r, None), R_FILE


def _missing_structures_file(m: MiniData):
    s, r = m.write()
    s.unlink()
    return (s, r, None), S_FILE


def _directory_instead_of_file(m: MiniData):
    s, r = m.write()
    r.unlink()
    r.mkdir()
    return (s, r, None), R_FILE


def _corrupt_workbook(m: MiniData):
    s, _ = m.write()
    broken = m.folder / "reponses.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00pas un classeur" * 20)
    return (s, broken, None), "reponses.xlsx"


def _old_excel_format(m: MiniData):
    _, r = m.write()
    old = m.folder / "structures.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    return (old, r, None), "structures.xls"


def _classeur_missing_reponses_sheet(m: MiniData):
    path = write_workbook(m.folder / "classeur.xlsx", {S: m.rows[S], "Feuil2": m.rows[R]})
    return (None, None, path), "classeur.xlsx"


def _classeur_given_a_csv(m: MiniData):
    s, _ = m.write()
    return (None, None, s), S_FILE


FILE_ERRORS = [
    (_structures_without_data_row, "aucune"),
    (_reponses_without_data_row, "aucune"),
    (_empty_structures_file, "vide"),
    (_blank_reponses_file, "vide"),
    (_missing_structures_file, "introuvable"),
    (_directory_instead_of_file, "dossier"),
    (_corrupt_workbook, "illisible"),
    (_old_excel_format, ".xls"),
    (_classeur_missing_reponses_sheet, "feuille « reponses » absente"),
    (_classeur_given_a_csv, "classeur"),
]


@pytest.mark.parametrize(
    ("make", "word"), FILE_ERRORS, ids=[f.__name__.strip("_") for f, _ in FILE_ERRORS]
)
def test_unusable_file_is_reported_with_its_name(mini: MiniData, make, word):
    arguments, fichier = make(mini)
    invalid = raised(*arguments)
    mine = [f for f in invalid.errors if f.fichier.startswith(fichier)]
    assert mine, invalid.report()
    assert any(word.casefold() in f.message.casefold() for f in mine), invalid.report()


def test_unusable_file_does_not_hide_errors_of_the_other_file(mini: MiniData):
    mini.set(R, 2, "communication_canaux", "blog")
    s, r = mini.write()
    s.write_bytes(b"")
    invalid = raised(s, r)
    assert any(f.fichier == S_FILE and "vide" in f.message for f in invalid.errors)
    assert any(f.fichier == R_FILE and f.ligne == 2 for f in invalid.errors)


def test_classeur_error_says_which_sheet(mini: MiniData):
    mini.set(R, 4, "permanence_partenaire", "peut-être")
    path = mini.write_workbook()
    invalid = raised(classeur=path)
    [finding] = invalid.errors
    assert finding.fichier.startswith("classeur.xlsx")
    assert "reponses" in finding.fichier  # two sheets, one file name: the sheet must be said
    assert (finding.ligne, finding.colonne, finding.valeur) == (
        4,
        "permanence_partenaire",
        "peut-être",
    )


# --- all errors at once ------------------------------------------------------------------


def test_all_errors_are_reported_at_once_across_both_files(mini: MiniData):
    mini.set(S, 2, "type", "MJC")
    mini.set(S, 3, "code_insee", "01001")
    mini.set(R, 4, "aller_vers_lieux", "piscine")
    invalid = mini.errors()
    assert [(f.fichier, f.ligne, f.colonne) for f in invalid.errors] == [
        (R_FILE, 4, "aller_vers_lieux"),
        (S_FILE, 2, "type"),
        (S_FILE, 3, "code_insee"),
    ]
    assert str(invalid).startswith("3 erreurs")


def test_every_bad_row_of_a_column_is_reported(mini: MiniData):
    for line in (2, 5, 9):
        mini.set(R, line, "contrat_local", "peut-être")
    invalid = mini.errors()
    assert [f.ligne for f in invalid.errors] == [2, 5, 9]


# --- accepted spellings -------------------------------------------------------------------

YES = ["oui", "OUI", " Oui ", "o", "O", "1", "vrai", "VRAI", "true", "True", "yes", "YES"]
NO = ["non", "Non ", "n", "N", "0", "faux", "Faux", "false", "FALSE", "no", " No"]


@pytest.mark.parametrize(
    ("spelling", "expected"), [(s, True) for s in YES] + [(s, False) for s in NO]
)
def test_yes_no_spellings_are_read(mini: MiniData, spelling, expected):
    mini.set(R, 2, "instances_coordination", spelling)
    mini.set(S, 2, "qpv", spelling)
    dataset = mini.load()
    responses = dataset.responses.set_index(["structure_id", "annee"])
    assert responses.at[("S1", 2023), "instances_coordination"] == expected
    assert dataset.structures.set_index("structure_id").at["S1", "qpv"] == expected


def test_empty_yes_no_cell_is_not_answered(mini: MiniData):
    mini.set(R, 2, "instances_coordination", "  ")
    dataset = mini.load()
    responses = dataset.responses.set_index(["structure_id", "annee"])
    assert pd.isna(responses.at[("S1", 2023), "instances_coordination"])


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("CS", "CS"),
        ("cs", "CS"),
        ("Centre social", "CS"),
        ("CENTRE SOCIAL", "CS"),
        (" centre  social ", "CS"),
        ("EVS", "EVS"),
        ("evs", "EVS"),
        ("Espace de vie sociale", "EVS"),
        ("ESPACE DE VIE SOCIALE", "EVS"),
        ("espace de vie sociale", "EVS"),
    ],
)
def test_structure_type_spellings_are_read(mini: MiniData, spelling, expected):
    mini.set(S, 4, "type", spelling)
    dataset = mini.load()
    assert dataset.structures.set_index("structure_id").at["S3", "type"] == expected


@pytest.mark.parametrize(
    ("spelling", "line", "expected"),
    [
        ("Métropole de Lyon", 2, "Métropole de Lyon"),
        ("metropole de lyon", 2, "Métropole de Lyon"),
        ("MÉTROPOLE DE LYON", 2, "Métropole de Lyon"),
        ("METROPOLE DE LYON", 2, "Métropole de Lyon"),
        ("  Métropole   de Lyon ", 2, "Métropole de Lyon"),
        ("Rhône", 8, "Rhône"),
        ("rhone", 8, "Rhône"),
        ("RHÔNE", 8, "Rhône"),
        ("Rhone", 8, "Rhône"),
    ],
)
def test_collectivite_spellings_are_reported_in_canonical_spelling(
    mini: MiniData, spelling, line, expected
):
    mini.set(S, line, "collectivite", spelling)
    dataset = mini.load()
    structure = mini.get(S, line, "structure_id")
    assert dataset.structures.set_index("structure_id").at[structure, "collectivite"] == expected
    assert set(dataset.structures["collectivite"]) == {"Métropole de Lyon", "Rhône"}


@pytest.mark.parametrize(
    "cell",
    [
        "site_internet;reseaux_sociaux",
        "site_internet,reseaux_sociaux",
        "site_internet|reseaux_sociaux",
        " Site_Internet | RESEAUX_SOCIAUX ",
        "reseaux_sociaux ; site_internet ;",
    ],
)
def test_list_separators_and_case_are_accepted(mini: MiniData, cell):
    mini.set(R, 2, "communication_canaux", cell)
    dataset = mini.load()
    row = dataset.responses.set_index(["structure_id", "annee"]).loc[("S1", 2023)]
    assert row["communication_canaux"] == "site_internet;reseaux_sociaux"
    assert row[code_column("communication_canaux", "site_internet")]
    assert row[code_column("communication_canaux", "reseaux_sociaux")]
    assert not row[code_column("communication_canaux", "autre")]


def test_headers_are_case_insensitive_and_trimmed(mini: MiniData):
    reference = mini.copy().load()
    for table, column, written in [
        (S, "structure_id", " Structure_ID "),
        (S, "nom", "NOM"),
        (S, "code_insee", "Code_Insee  "),
        (R, "annee", "ANNEE"),
        (R, "permanence_partenaire", "  Permanence_Partenaire"),
    ]:
        mini.rename_column(table, column, written)
    dataset = mini.load()
    assert not dataset.warnings
    pd.testing.assert_frame_equal(indicators.compute(dataset), indicators.compute(reference))


def test_utf8_bom_is_ignored(mini: MiniData):
    dataset = mini.load(bom=True)
    assert list(dataset.structures["structure_id"][:2]) == ["S1", "S2"]
    assert len(dataset.responses) == 11


def test_french_excel_csv_cp1252_with_semicolons_is_read(mini: MiniData):
    for line in (8, 9):
        mini.set(S, line, "territoire", "Lônes et Coteaux du Rhône")
    mini.set(S, 2, "nom", "Centre social Élan – Pierre-Bénite")
    mini.set(S, 3, "collectivite", "Métropole de Lyon")
    s, r = mini.write(sep=";", encoding="cp1252")
    assert b"L\xf4nes" in s.read_bytes() and b";" in s.read_bytes().splitlines()[0]
    dataset = load_or_raise(s, r)
    assert "Lônes et Coteaux du Rhône" in dataset.territories
    assert dataset.collectivite_of("Lônes et Coteaux du Rhône") == "Rhône"
    structures = dataset.structures.set_index("structure_id")
    assert structures.at["S1", "nom"] == "Centre social Élan – Pierre-Bénite"
    assert structures.at["S2", "collectivite"] == "Métropole de Lyon"


def test_semicolon_separator_is_detected_in_utf8_too(mini: MiniData):
    dataset = mini.load(sep=";")
    assert len(dataset.structures) == 8 and len(dataset.responses) == 11


# --- XLSX ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [69123, 69123.0], ids=["int", "float"])
def test_excel_number_code_insee_is_read_as_text(mini: MiniData, tmp_path: Path, number):
    rows = [mini.rows[S][0]] + [
        [number if v == "69123" else v for v in row] for row in mini.rows[S][1:]
    ]
    structures = write_workbook(tmp_path / "structures.xlsx", {"Feuil1": rows})
    _, reponses = mini.write()
    dataset = load_or_raise(structures, reponses)
    codes = dataset.structures.set_index("structure_id")["code_insee"]
    assert codes["S1"] == "69123" and codes["S4"] == "69123"


def test_excel_numbers_and_booleans_in_reponses_are_read(mini: MiniData, tmp_path: Path):
    rows = [mini.rows[R][0]] + [list(row) for row in mini.rows[R][1:]]
    rows[1][mini.column_index(R, "annee")] = 2023
    rows[1][mini.column_index(R, "instances_coordination")] = False
    rows[1][mini.column_index(R, "projet_social_partage")] = 1
    reponses = write_workbook(tmp_path / "reponses.xlsx", {"reponses": rows})
    structures, _ = mini.write()
    dataset = load_or_raise(structures, reponses)
    row = dataset.responses.set_index(["structure_id", "annee"]).loc[("S1", 2023)]
    assert not row["instances_coordination"]
    assert row["projet_social_partage"]


def test_blank_row_keeps_spreadsheet_row_numbers(mini: MiniData):
    mini.set(R, 6, "contrat_local", "peut-être")
    mini.rows[R].insert(3, [""] * len(mini.rows[R][0]))  # a blank row 4: S7 moves to row 7
    [finding] = mini.errors().errors
    assert (finding.ligne, finding.valeur) == (7, "peut-être")


def test_xlsx_table_is_read_from_the_sheet_of_its_name(mini: MiniData, tmp_path: Path):
    sheets = {"Notice": [["Lisez-moi"], ["rien ici"]], "reponses": mini.rows[R]}
    reponses = write_workbook(tmp_path / "saisie.xlsx", sheets)
    structures, _ = mini.write()
    dataset = load_or_raise(structures, reponses)
    assert len(dataset.responses) == 11


def test_xlsx_table_without_sheet_of_its_name_is_read_from_first_sheet(
    mini: MiniData, tmp_path: Path
):
    sheets = {"Feuil1": mini.rows[S], "Feuil2": [["autre chose"], ["x"]]}
    structures = write_workbook(tmp_path / "registre.xlsx", sheets)
    _, reponses = mini.write()
    dataset = load_or_raise(structures, reponses)
    assert len(dataset.structures) == 8


def test_xlsx_error_line_is_the_spreadsheet_row(mini: MiniData, tmp_path: Path):
    mini.set(S, 6, "code_insee", "1234")
    structures = write_workbook(tmp_path / "registre.xlsx", {"Feuil1": mini.rows[S]})
    _, reponses = mini.write()
    invalid = raised(structures, reponses)
    [finding] = invalid.errors
    assert finding.fichier.startswith("registre.xlsx")
    assert (finding.ligne, finding.colonne, finding.valeur) == (6, "code_insee", "1234")


# --- what is kept, what is warned ----------------------------------------------------------


def test_extra_columns_are_kept(mini: MiniData):
    mini.add_column(S, "Référent", [f"Personne {i}" for i in range(8)])
    mini.add_column(R, "Saisi par", ["Caf"] * 11)
    dataset = mini.load()
    assert list(dataset.structures["Référent"][:2]) == ["Personne 0", "Personne 1"]
    assert set(dataset.responses["Saisi par"]) == {"Caf"}
    assert not dataset.warnings


def test_absent_question_column_is_a_warning_and_not_answered(mini: MiniData):
    mini.drop_column(R, "contrat_local")
    dataset = mini.load()
    [warning] = [w for w in dataset.warnings if w.colonne == "contrat_local"]
    assert (warning.fichier, warning.ligne) == (R_FILE, 1)
    assert "absente" in warning.message
    assert dataset.responses["contrat_local"].isna().all()
    table = indicators.compute(dataset)
    rows = table[table["indicateur"] == "contrat_local"]
    assert (rows["denominateur"] == 0).all()


def test_list_filled_while_its_yes_no_says_non_is_a_warning_counted_as_written(mini: MiniData):
    mini.set(R, 3, "permanence_partenaires", "caf")  # S2 2023 answered non
    dataset = mini.load()
    [warning] = dataset.warnings
    assert (warning.fichier, warning.ligne, warning.colonne, warning.valeur) == (
        R_FILE,
        3,
        "permanence_partenaires",
        "caf",
    )
    assert "non" in warning.message and "compt" in warning.message
    table = indicators.compute(dataset).set_index(
        ["annee", "niveau", "perimetre", "indicateur", "modalite"]
    )
    caf = table.loc[(2023, "territoire", "Lyon", "permanence_partenaires", "caf")]
    assert (caf["numerateur"], caf["denominateur"]) == (3, 3)


def test_mini_fixture_loads_without_warning(mini_dataset):
    assert mini_dataset.warnings == []
    assert len(mini_dataset.structures) == 8
    assert len(mini_dataset.responses) == 11


# --- the three input forms ------------------------------------------------------------------


def test_three_input_forms_give_the_same_indicators(mini: MiniData, mini_dir: Path):
    from_csv = indicators.compute(load_or_raise(mini_dir / S_FILE, mini_dir / R_FILE))

    s, r = mini.write(sep=";", encoding="cp1252", suffix="_excel")
    assert b"M\xe9tropole" in s.read_bytes()
    from_french_csv = indicators.compute(load_or_raise(s, r))

    classeur = mini.write_workbook()
    from_workbook = indicators.compute(load_or_raise(classeur=classeur))

    assert len(from_csv) > 0
    pd.testing.assert_frame_equal(from_french_csv, from_csv)
    pd.testing.assert_frame_equal(from_workbook, from_csv)


def test_classeur_sheet_names_are_case_insensitive(mini: MiniData):
    path = write_workbook(
        mini.folder / "classeur.xlsx", {"Structures": mini.rows[S], "REPONSES": mini.rows[R]}
    )
    dataset = load_or_raise(classeur=path)
    assert len(dataset.responses) == 11


# --- a territory's name must make a usable folder (issue 24, item 7) ------------------------


def test_a_territory_name_too_long_for_a_folder_is_refused_with_the_limit(mini):
    """A 310-character name passed `valider`, then `rapports` failed with « vérifiez
    les droits » (the file system refused its folder)."""
    from avs_eval.paths import MAX_FOLDER_NAME

    long_name = "Communauté de communes" + " du Val" * 41
    assert len(long_name) >= 300
    mini.set("structures", 2, "territoire", long_name)
    error = raised(*mini.write())
    [finding] = [f for f in error.errors if "trop long" in f.message]
    assert (finding.fichier, finding.ligne, finding.colonne) == ("structures.csv", 2, "territoire")
    assert finding.valeur == long_name
    assert f"au plus {MAX_FOLDER_NAME}" in finding.message


@pytest.mark.parametrize(
    "name", ["Envoi", "Synthèse", "Index", "NUL", "Com1", "Lpt9", "Aux", "Interne", "Manifest"]
)
def test_a_territory_named_like_a_folder_of_the_year_or_a_windows_device_is_refused(mini, name):
    """« Envoi » landed in envoi/ beside the PDFs to send."""
    mini.set("structures", 2, "territoire", name)
    error = raised(*mini.write())
    [finding] = [f for f in error.errors if "nom réservé" in f.message]
    assert (finding.fichier, finding.ligne, finding.colonne, finding.valeur) == (
        "structures.csv", 2, "territoire", name,
    )  # fmt: skip
    assert f"« {name} »" in finding.message


def test_ordinary_territory_names_pass(mini):
    mini.set("structures", 2, "territoire", "Envoi et Partage")  # envoi-et-partage
    assert "Envoi et Partage" in load_or_raise(*mini.write()).territories
