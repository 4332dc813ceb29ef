"""Write the corpus of malformed inputs under tests/malformes/, one folder per case.

Run from the project root: `.venv/bin/python tests/make_malformes.py`. The output is
deterministic (fixed random seeds, fixed dates inside the .xlsx packages), so running
it again changes nothing: the files are committed and the script documents how each
one was made. tests/test_malformed_inputs.py runs the CLI on every folder.

Each case is the mini fixture (tests/fixtures/mini) with one thing wrong, written as
`structures.csv` + `reponses.csv` (or .xlsx), or as `classeur.xlsx`, beside an
`attendu.yaml` saying what the error message must contain:

    code_retour: 1            # exit code of `avs-eval valider`
    erreurs:                  # one entry per message line that must be printed
      - fichier: reponses.csv # the file as named in the message
        ligne: 4              # spreadsheet row ("ligne 4"), when the place is knowable
        colonne: annee        # column, as written in the header
        valeur: "2019"        # value, as quoted in the message
        mots: [hors de la période]  # French words of the explanation

Every field present must appear on one same line of the error output.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import warnings
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import yaml

HERE = Path(__file__).parent
MINI_DIR = HERE / "fixtures" / "mini"
OUT = HERE / "malformes"
TABLES = ("structures", "reponses")
FIXED_TIME = datetime(2024, 1, 1, 12, 0, 0)


# --- the mini fixture, editable ------------------------------------------------------


def _read(name: str) -> list[list[str]]:
    with open(MINI_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


class Mini:
    """The two tables of the mini fixture; rows addressed by spreadsheet row (header = 1)."""

    def __init__(self) -> None:
        self.rows = {name: _read(name) for name in TABLES}

    def col(self, table: str, column: str) -> int:
        return self.rows[table][0].index(column)

    def set(self, table: str, line: int, column: str, value: str) -> Mini:
        self.rows[table][line - 1][self.col(table, column)] = value
        return self

    def drop_column(self, table: str, column: str) -> Mini:
        position = self.col(table, column)
        for row in self.rows[table]:
            del row[position]
        return self

    def append_copy(self, table: str, line: int, **cells: str) -> int:
        row = list(self.rows[table][line - 1])
        for column, value in cells.items():
            row[self.col(table, column)] = value
        self.rows[table].append(row)
        return len(self.rows[table])

    def csv_text(self, table: str, *, sep: str = ",", eol: str = "\n") -> str:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=sep, lineterminator=eol).writerows(self.rows[table])
        return buffer.getvalue()


# --- writers -------------------------------------------------------------------------


def _write_csvs(folder: Path, mini: Mini, **options) -> None:
    for table in TABLES:
        (folder / f"{table}.csv").write_bytes(mini.csv_text(table, **options).encode("utf-8"))


def _excel_value(text: str):
    """A cell as Excel stores it once typed in: digits become numbers."""
    return int(text) if text.isdigit() else (text or None)


def _save_workbook(workbook: openpyxl.Workbook, path: Path) -> None:
    """Save with fixed dates, in the package and in its zip entries: same bytes every run."""
    workbook.properties.creator = "make_malformes"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the saving time
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            target.writestr(fixed, content)
    path.write_bytes(out.getvalue())


def _sheet(workbook: openpyxl.Workbook, name: str, rows: list[list]) -> None:
    sheet = workbook.create_sheet(name)
    for row in rows:
        sheet.append(list(row))


def _workbook_of(mini: Mini, tables: dict[str, str]) -> openpyxl.Workbook:
    """A workbook whose sheet `name` holds table `tables[name]`, values typed as in Excel."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, table in tables.items():
        rows = mini.rows[table]
        _sheet(workbook, name, [rows[0]] + [[_excel_value(v) for v in r] for r in rows[1:]])
    return workbook


def _write_xlsx_pair(folder: Path, mini: Mini, edit: Callable | None = None) -> None:
    """structures.xlsx + reponses.xlsx; `edit(table, sheet)` changes a sheet before saving."""
    for table in TABLES:
        workbook = _workbook_of(mini, {table: table})
        if edit:
            edit(table, workbook[table])
        _save_workbook(workbook, folder / f"{table}.xlsx")


# --- the cases -----------------------------------------------------------------------

S, R = "structures", "reponses"
CASES: dict[str, Callable[[Path], list[dict]]] = {}


def case(function: Callable[[Path], list[dict]]) -> Callable[[Path], list[dict]]:
    CASES[function.__name__] = function
    return function


def err(fichier: str, ligne=None, colonne=None, valeur=None, *mots: str) -> dict:
    entry = {"fichier": fichier}
    if ligne is not None:
        entry["ligne"] = ligne
    if colonne is not None:
        entry["colonne"] = colonne
    if valeur is not None:
        entry["valeur"] = valeur
    entry["mots"] = list(mots)
    return entry


def _csv_case(folder: Path, mini: Mini, **options) -> None:
    _write_csvs(folder, mini, **options)


# contract errors, one by one -----------------------------------------------------------


@case
def code_inconnu(folder):
    _csv_case(folder, Mini().set(R, 4, "communication_canaux", "site_web"))
    return [err("reponses.csv", 4, "communication_canaux", "site_web", "code inconnu")]


@case
def code_inconnu_parmi_plusieurs(folder):
    _csv_case(folder, Mini().set(R, 5, "aller_vers_lieux", "mediatheque;piscine"))
    return [
        err(
            "reponses.csv", 5, "aller_vers_lieux", "mediatheque;piscine", "code inconnu « piscine »"
        )
    ]


@case
def code_separateur_inconnu(folder):
    _csv_case(folder, Mini().set(R, 7, "communication_canaux", "site_internet / presse_bulletin"))
    return [
        err(
            "reponses.csv",
            7,
            "communication_canaux",
            "site_internet / presse_bulletin",
            "code inconnu",
        )
    ]


@case
def oui_non_inconnu(folder):
    _csv_case(folder, Mini().set(R, 3, "permanence_partenaire", "peut-être"))
    return [err("reponses.csv", 3, "permanence_partenaire", "peut-être", "oui/non non reconnue")]


@case
def oui_non_inconnu_qpv(folder):
    _csv_case(folder, Mini().set(S, 4, "qpv", "en partie"))
    return [err("structures.csv", 4, "qpv", "en partie", "oui/non non reconnue")]


@case
def colonne_obligatoire_absente_structures(folder):
    _csv_case(folder, Mini().drop_column(S, "territoire"))
    return [err("structures.csv", 1, "territoire", "(absente)", "colonne obligatoire absente")]


@case
def colonne_obligatoire_absente_reponses(folder):
    _csv_case(folder, Mini().drop_column(R, "annee"))
    return [err("reponses.csv", 1, "annee", "(absente)", "colonne obligatoire absente")]


@case
def colonne_mal_orthographiee(folder):
    mini = Mini()
    mini.rows[S][0][mini.col(S, "code_insee")] = "code insee"
    _csv_case(folder, mini)
    return [err("structures.csv", 1, "code_insee", "(absente)", "colonne obligatoire absente")]


@case
def structure_id_en_double(folder):
    mini = Mini()
    line = mini.append_copy(S, 3, nom="Centre social Beta bis")
    _csv_case(folder, mini)
    return [err("structures.csv", line, "structure_id", "S2", "identifiant en double", "ligne 3")]


@case
def reponse_en_double(folder):
    mini = Mini()
    line = mini.append_copy(R, 8, communication_canaux="site_internet")
    _csv_case(folder, mini)
    return [err("reponses.csv", line, "structure_id", "S2", "réponse en double pour 2024")]


@case
def structure_inconnue(folder):
    _csv_case(folder, Mini().set(R, 6, "structure_id", "S99"))
    return [err("reponses.csv", 6, "structure_id", "S99", "structure inconnue")]


@case
def annee_hors_periode(folder):
    _csv_case(folder, Mini().set(R, 2, "annee", "2019"))
    return [err("reponses.csv", 2, "annee", "2019", "hors de la période", "2022-2026")]


@case
def annee_pas_un_nombre(folder):
    _csv_case(folder, Mini().set(R, 9, "annee", "deux mille vingt-quatre"))
    return [err("reponses.csv", 9, "annee", "deux mille vingt-quatre", "année attendue")]


@case
def annee_date_csv(folder):
    _csv_case(folder, Mini().set(R, 10, "annee", "01/01/2024"))
    return [err("reponses.csv", 10, "annee", "01/01/2024", "année attendue")]


@case
def annee_vide(folder):
    _csv_case(folder, Mini().set(R, 11, "annee", ""))
    return [err("reponses.csv", 11, "annee", "", "valeur obligatoire manquante")]


@case
def annee_chiffres_pleine_largeur(folder):
    # Full-width digits, as typed with a Japanese or Chinese keyboard: a 4-digit year to
    # a regex's \d, not to a number converter.
    _csv_case(folder, Mini().set(R, 4, "annee", "２０２３"))
    return [err("reponses.csv", 4, "annee", "２０２３", "année attendue")]


@case
def reponse_en_double_annee_decimale(folder):
    # "2024.0" (a number exported by a tool) is the year 2024: a second answer of S1.
    mini = Mini()
    line = mini.append_copy(R, 7, annee="2024.0", communication_canaux="site_internet")
    _csv_case(folder, mini)
    return [
        err("reponses.csv", line, "structure_id", "S1", "réponse en double pour 2024", "ligne 7")
    ]


@case
def code_insee_hors_69(folder):
    _csv_case(folder, Mini().set(S, 8, "code_insee", "38185"))
    return [err("structures.csv", 8, "code_insee", "38185", "code INSEE", "69")]


@case
def collectivite_inconnue(folder):
    _csv_case(folder, Mini().set(S, 6, "collectivite", "Grand Lyon"))
    return [err("structures.csv", 6, "collectivite", "Grand Lyon", "collectivité inconnue")]


@case
def territoire_deux_collectivites(folder):
    _csv_case(folder, Mini().set(S, 9, "collectivite", "Métropole de Lyon"))
    return [
        err(
            "structures.csv",
            9,
            "collectivite",
            "Métropole de Lyon",
            "« Ouest Rhône » est rattaché à deux collectivités",
        )
    ]


@case
def type_inconnu(folder):
    _csv_case(folder, Mini().set(S, 2, "type", "MJC"))
    return [err("structures.csv", 2, "type", "MJC", "type inconnu")]


@case
def structure_non_agreee_cette_annee(folder):
    # S5 is approved until 2023 (annee_fin); it answers in 2024 too.
    mini = Mini()
    line = mini.append_copy(R, 5, annee="2024")
    _csv_case(folder, mini)
    return [err("reponses.csv", line, "structure_id", "S5", "pas agréée en 2024")]


@case
def structure_pas_encore_agreee(folder):
    # S4 is approved from 2024 (annee_debut); it answers in 2023.
    mini = Mini()
    line = mini.append_copy(R, 9, annee="2023")
    _csv_case(folder, mini)
    return [err("reponses.csv", line, "structure_id", "S4", "pas agréée en 2023", "2024-…")]


@case
def cellule_obligatoire_vide(folder):
    _csv_case(folder, Mini().set(S, 5, "nom", ""))
    return [err("structures.csv", 5, "nom", "", "valeur obligatoire manquante")]


@case
def structure_id_vide_reponses(folder):
    _csv_case(folder, Mini().set(R, 7, "structure_id", ""))
    return [err("reponses.csv", 7, "structure_id", "", "valeur obligatoire manquante")]


@case
def annee_debut_apres_annee_fin(folder):
    mini = Mini().set(S, 7, "annee_debut", "2025").set(S, 7, "annee_fin", "2023")
    _csv_case(folder, mini)
    return [err("structures.csv", 7, "annee_debut", "2025", "année de début après l'année de fin")]


@case
def annee_fin_pas_un_nombre(folder):
    _csv_case(folder, Mini().set(S, 3, "annee_fin", "fin 2025"))
    return [err("structures.csv", 3, "annee_fin", "fin 2025", "année attendue")]


# shape of the table ---------------------------------------------------------------------


@case
def en_tete_en_double(folder):
    mini = Mini()
    for row in mini.rows[R]:
        row.append(row[1])  # `annee` written again as a last column
    _csv_case(folder, mini)
    return [err("reponses.csv", 1, "annee", "annee", "en-tête présent deux fois")]


@case
def valeurs_en_trop(folder):
    mini = Mini()
    mini.rows[S][4] += ["", "de trop"]
    _csv_case(folder, mini)
    return [err("structures.csv", 5, None, "de trop", "valeurs ou plus pour 10 colonnes")]


@case
def en_tetes_seuls(folder):
    mini = Mini()
    mini.rows[R] = mini.rows[R][:1]
    _csv_case(folder, mini)
    return [err("reponses.csv", None, None, None, "aucune ligne de données")]


@case
def sans_en_tete(folder):
    mini = Mini()
    mini.rows[S] = mini.rows[S][1:]
    _csv_case(folder, mini)
    # The first data row is taken for the header: its repeated values are reported.
    return [err("structures.csv", 1, "Lyon", "Lyon", "en-tête présent deux fois")]


@case
def lignes_vides_avant_en_tete(folder):
    mini = Mini().drop_column(S, "commune")
    width = len(mini.rows[S][0])
    mini.rows[S] = [[""] * width, [""] * width, *mini.rows[S]]
    _csv_case(folder, mini)
    return [err("structures.csv", 3, "commune", "(absente)", "colonne obligatoire absente")]


@case
def en_tete_reserve(folder):
    # A user column named like the loader's internal ones (_ligne, _colonne_N), plus an
    # error: the line reported is the spreadsheet row, not the user's `_ligne` value.
    mini = Mini()
    mini.rows[R][0] = ["_ligne", "", "_colonne_2", *mini.rows[R][0]]
    for number, row in enumerate(mini.rows[R][1:], start=2):
        row[:0] = [str(number * 100), "note", "x"]
    mini.rows[R][4][mini.col(R, "contrats")] = "ctg;contrat_vile"
    _csv_case(folder, mini)
    return [err("reponses.csv", 5, "contrats", "ctg;contrat_vile", "code inconnu « contrat_vile »")]


@case
def titre_au_dessus_en_tete(folder):
    mini = Mini()
    width = len(mini.rows[S][0])
    title = ["Registre des structures agréées - 2024"] + [""] * (width - 1)
    mini.rows[S] = [title, [""] * width, *mini.rows[S]]
    _csv_case(folder, mini)
    return [
        err(
            "structures.csv",
            1,
            None,
            "Registre des structures agréées - 2024",
            "ligne de titre au-dessus des en-têtes",
            "semblent être en ligne 3",
        )
    ]


@case
def fichiers_inverses(folder):
    mini = Mini()
    (folder / "structures.csv").write_text(mini.csv_text(R), encoding="utf-8")
    (folder / "reponses.csv").write_text(mini.csv_text(S), encoding="utf-8")
    return [
        err("structures.csv", 1, "nom", "(absente)", "fichiers inversés"),
        err("reponses.csv", 1, "annee", "(absente)", "fichiers inversés"),
    ]


@case
def deux_fois_le_meme_fichier(folder):
    mini = Mini()
    (folder / "structures.csv").write_text(mini.csv_text(S), encoding="utf-8")
    (folder / "reponses.csv").write_text(mini.csv_text(S), encoding="utf-8")
    return [err("reponses.csv", 1, "annee", "(absente)", "fichiers inversés")]


@case
def separateur_tabulation(folder):
    mini = Mini()
    _csv_case(folder, mini)
    (folder / "reponses.csv").write_text(mini.csv_text(R, sep="\t"), encoding="utf-8")
    return [err("reponses.csv", 1, "structure_id", "(absente)", "colonne obligatoire absente")]


# text encodings and line endings --------------------------------------------------------


@case
def fin_de_ligne_windows_avec_erreur(folder):
    _csv_case(folder, Mini().set(R, 9, "contrat_local", "peut-être"), eol="\r\n")
    return [err("reponses.csv", 9, "contrat_local", "peut-être", "oui/non non reconnue")]


@case
def fin_de_ligne_mac_classique(folder):
    # Old Mac line endings (CR only): csv reads them as line breaks; the line is kept right.
    _csv_case(folder, Mini().set(S, 6, "type", "Maison de quartier"), eol="\r")
    return [err("structures.csv", 6, "type", "Maison de quartier", "type inconnu")]


@case
def cellule_sur_deux_lignes(folder):
    # A line break typed inside a cell (Alt+Enter in Excel): the following rows keep
    # their spreadsheet numbers, which are records, not text lines.
    mini = Mini().set(S, 3, "nom", "Centre social\nBeta").set(S, 5, "type", "Crèche")
    _csv_case(folder, mini, eol="\r\n")
    return [err("structures.csv", 5, "type", "Crèche", "type inconnu")]


@case
def utf16(folder):
    mini = Mini()
    _csv_case(folder, mini)
    (folder / "structures.csv").write_bytes(mini.csv_text(S, sep="\t").encode("utf-16"))
    return [err("structures.csv", None, None, None, "UTF-16")]


@case
def cp1252_avec_erreur(folder):
    mini = Mini().set(S, 7, "collectivite", "Métropole de Saint-Étienne")
    _csv_case(folder, mini)
    text = mini.csv_text(S, sep=";", eol="\r\n")
    (folder / "structures.csv").write_bytes(text.encode("cp1252"))
    return [
        err(
            "structures.csv",
            7,
            "collectivite",
            "Métropole de Saint-Étienne",
            "collectivité inconnue",
        )
    ]


@case
def encodage_inconnu(folder):
    # 0x81 is undefined in Windows-1252 and invalid alone in UTF-8.
    mini = Mini()
    _csv_case(folder, mini)
    data = mini.csv_text(S).encode("utf-8").replace(b"EVS Gamma", b"EVS Gamma \x81")
    (folder / "structures.csv").write_bytes(data)
    return [err("structures.csv", 4, None, "octet 0x81", "encodage non reconnu")]


@case
def bom_au_milieu(folder):
    # Two exports pasted one after the other, each with its UTF-8 BOM.
    mini = Mini()
    _csv_case(folder, mini)
    body = mini.csv_text(R).split("\n", 1)
    data = "\ufeff" + mini.csv_text(R) + "\ufeff" + body[0] + "\n" + "S3,2024" + "," * 12 + "\n"
    (folder / "reponses.csv").write_bytes(data.encode("utf-8"))
    return [err("reponses.csv", 13, None, None, "BOM", "au milieu du fichier")]


@case
def guillemets_casses(folder):
    mini = Mini()
    _csv_case(folder, mini)
    text = mini.csv_text(S).replace("Centre social Delta", '"Centre social" Delta')
    (folder / "structures.csv").write_text(text, encoding="utf-8")
    return [err("structures.csv", 5, None, None, "ligne CSV mal formée", "guillemets")]


@case
def guillemet_jamais_ferme(folder):
    mini = Mini()
    _csv_case(folder, mini)
    text = mini.csv_text(R).replace("Porte ouverte", '"Porte ouverte')
    (folder / "reponses.csv").write_text(text, encoding="utf-8")
    return [err("reponses.csv", 5, None, None, "guillemet ouvert jamais refermé")]


@case
def cellule_enorme(folder):
    huge = "Centre social" + " très" * 1_500  # 7,513 characters
    _csv_case(folder, Mini().set(S, 3, "nom", huge))
    shown = huge[:59] + "…"  # long values are cut in messages
    return [err("structures.csv", 3, "nom", shown, "cellule anormalement longue", "7513")]


# not a table at all ---------------------------------------------------------------------


@case
def fichier_vide(folder):
    _csv_case(folder, Mini())
    (folder / "structures.csv").write_bytes(b"")
    return [err("structures.csv", None, None, None, "fichier vide")]


@case
def fichier_de_lignes_vides(folder):
    _csv_case(folder, Mini())
    (folder / "reponses.csv").write_bytes(b"\xef\xbb\xbf\r\n;;;\r\n\r\n ; ;\r\n")
    return [err("reponses.csv", None, None, None, "fichier vide")]


@case
def binaire_aleatoire(folder):
    _csv_case(folder, Mini())
    (folder / "reponses.csv").write_bytes(random.Random(312).randbytes(4_096))
    return [err("reponses.csv", None, None, None, "contenu binaire")]


@case
def binaire_sans_octet_nul(folder):
    # Random bytes that happen to decode in Windows-1252: text full of control characters.
    _csv_case(folder, Mini())
    generator = random.Random(3121)
    allowed = [b for b in range(1, 256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)]
    data = bytes(generator.choice(allowed) for _ in range(2_048))
    (folder / "structures.csv").write_bytes(data)
    return [err("structures.csv", 1, None, None, "contenu binaire")]


@case
def image_png(folder):
    _csv_case(folder, Mini())
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02"
    (folder / "structures.csv").write_bytes(header + random.Random(5).randbytes(200))
    return [err("structures.csv", None, None, None, "contenu binaire")]


@case
def excel_97_xls(folder):
    _csv_case(folder, Mini())
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(24) + random.Random(97).randbytes(480)
    (folder / "reponses.xls").write_bytes(ole)
    (folder / "reponses.csv").unlink()
    return [err("reponses.xls", None, None, None, "Excel 97-2003", ".xlsx")]


@case
def zip_qui_nest_pas_un_classeur(folder):
    _csv_case(folder, Mini())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("lisez-moi.txt", date_time=FIXED_TIME.timetuple()[:6])
        archive.writestr(info, "Ceci n'est pas un classeur.")
    (folder / "structures.xlsx").write_bytes(buffer.getvalue())
    (folder / "structures.csv").unlink()
    return [err("structures.xlsx", None, None, None, "classeur Excel illisible")]


@case
def classeur_tronque(folder):
    mini = Mini()
    workbook = _workbook_of(mini, {S: S, R: R})
    _save_workbook(workbook, folder / "classeur.xlsx")
    data = (folder / "classeur.xlsx").read_bytes()
    (folder / "classeur.xlsx").write_bytes(data[: len(data) // 2])
    return [err("classeur.xlsx", None, None, None, "classeur Excel illisible")]


# spreadsheets as people make them --------------------------------------------------------


def _merge_title(table, sheet):
    if table == S:
        sheet.insert_rows(1)
        sheet["A1"] = "Registre des structures"
        sheet.merge_cells("A1:J1")


@case
def xlsx_cellules_fusionnees(folder):
    _write_xlsx_pair(folder, Mini(), _merge_title)
    return [err("structures.xlsx [feuille structures]", 1, None, "A1:J1", "cellules fusionnées")]


@case
def xlsx_cellules_fusionnees_dans_les_donnees(folder):
    def merge(table, sheet):
        if table == R:
            sheet.merge_cells("B5:B6")  # the same year typed once for two rows

    _write_xlsx_pair(folder, Mini(), merge)
    return [err("reponses.xlsx [feuille reponses]", 5, None, "B5:B6", "cellules fusionnées")]


@case
def xlsx_titre_au_dessus_en_tete(folder):
    def title(table, sheet):
        if table == R:
            sheet.insert_rows(1, 2)
            sheet["A1"] = "Enquête annuelle AVS - réponses"

    _write_xlsx_pair(folder, Mini(), title)
    return [
        err(
            "reponses.xlsx [feuille reponses]",
            1,
            None,
            "Enquête annuelle AVS - réponses",
            "ligne de titre au-dessus des en-têtes",
            "semblent être en ligne 3",
        )
    ]


@case
def xlsx_formule(folder):
    def formula(table, sheet):
        if table == R:
            sheet["B4"] = "=2022+1"

    _write_xlsx_pair(folder, Mini(), formula)
    return [err("reponses.xlsx [feuille reponses]", 4, "B", "=2022+1", "formule")]


@case
def xlsx_formule_simple(folder):
    def formula(table, sheet):
        if table == S:
            sheet["E6"] = "=1+1"

    _write_xlsx_pair(folder, Mini(), formula)
    return [err("structures.xlsx [feuille structures]", 6, "E", "=1+1", "formule")]


@case
def xlsx_date_dans_annee(folder):
    def date(table, sheet):
        if table == R:
            sheet["B8"] = datetime(2024, 1, 1)

    _write_xlsx_pair(folder, Mini(), date)
    return [err("reponses.xlsx [feuille reponses]", 8, "annee", "01/01/2024", "année attendue")]


@case
def xlsx_date_dans_annee_debut(folder):
    def date(table, sheet):
        if table == S:
            sheet["I5"] = datetime(2024, 9, 1)

    _write_xlsx_pair(folder, Mini(), date)
    return [
        err(
            "structures.xlsx [feuille structures]", 5, "annee_debut", "01/09/2024", "année attendue"
        )
    ]


@case
def xlsx_code_insee_entier_hors_69(folder):
    def number(table, sheet):
        if table == S:
            sheet["E3"] = 1053  # an Ain code typed as a number: Excel dropped the leading 0

    _write_xlsx_pair(folder, Mini(), number)
    return [err("structures.xlsx [feuille structures]", 3, "code_insee", "1053", "code INSEE")]


@case
def xlsx_annee_decimale(folder):
    def decimal(table, sheet):
        if table == R:
            sheet["B3"] = 2023.5

    _write_xlsx_pair(folder, Mini(), decimal)
    return [err("reponses.xlsx [feuille reponses]", 3, "annee", "2023.5", "année attendue")]


DATA_VALIDATION_EXTENSION = (
    b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    b'<x14:dataValidations count="0"/></ext></extLst>'
)


def _with_data_validation(path: Path) -> None:
    """Add the extension Excel writes for drop-down lists (openpyxl warns about it)."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = content.replace(
                    b"</worksheet>", DATA_VALIDATION_EXTENSION + b"</worksheet>"
                )
            target.writestr(info, content)
    path.write_bytes(out.getvalue())


@case
def xlsx_listes_deroulantes_avec_erreur(folder):
    # Drop-down lists made in Excel: openpyxl warns, in English; the user must not see it.
    def value(table, sheet):
        if table == R:
            sheet["G6"] = "Oui, souvent"

    _write_xlsx_pair(folder, Mini(), value)
    _with_data_validation(folder / "reponses.xlsx")
    return [
        err(
            "reponses.xlsx [feuille reponses]",
            6,
            "aller_vers_partenaire",
            "Oui, souvent",
            "oui/non non reconnue",
        )
    ]


@case
def classeur_feuille_absente(folder):
    _save_workbook(_workbook_of(Mini(), {S: S, "Feuil2": R}), folder / "classeur.xlsx")
    return [err("classeur.xlsx", None, None, None, "feuille « reponses » absente", "Feuil2")]


@case
def classeur_feuilles_inversees(folder):
    _save_workbook(_workbook_of(Mini(), {S: R, R: S}), folder / "classeur.xlsx")
    return [
        err("classeur.xlsx [feuille structures]", 1, "nom", "(absente)", "fichiers inversés"),
        err("classeur.xlsx [feuille reponses]", 1, "annee", "(absente)", "fichiers inversés"),
    ]


@case
def classeur_en_csv(folder):
    (folder / "classeur.xlsx").write_text(Mini().csv_text(S), encoding="utf-8")
    return [err("classeur.xlsx", None, None, None, "classeur Excel (.xlsx) est attendu")]


@case
def classeur_erreur_de_contrat(folder):
    mini = Mini().set(R, 12, "difficultes_gouvernance", "bof")
    _save_workbook(_workbook_of(mini, {S: S, R: R}), folder / "classeur.xlsx")
    return [
        err(
            "classeur.xlsx [feuille reponses]",
            12,
            "difficultes_gouvernance",
            "bof",
            "oui/non non reconnue",
        )
    ]


# --- writing the corpus --------------------------------------------------------------


def build(out: Path = OUT) -> list[str]:
    """(Re)write every case folder under `out`; returns the case names."""
    out.mkdir(parents=True, exist_ok=True)
    for name, make in CASES.items():
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        expected = {"code_retour": 1, "erreurs": make(folder)}
        text = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=100)
        (folder / "attendu.yaml").write_text(text, encoding="utf-8")
    # Keep the bytes as written: no line-ending conversion by git on any platform.
    (out / ".gitattributes").write_text("* -text\n", encoding="utf-8")
    return list(CASES)


def contents(folder: Path) -> dict[str, object]:
    """What a case holds: the bytes of each file, the cells of each readable workbook.

    Workbooks are compared by content, not bytes, so that another version of openpyxl
    or zlib does not count as a change of the corpus.
    """
    result: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".xlsx":
            result[path.name] = path.read_bytes()
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the drop-down list case warns on purpose
                workbook = openpyxl.load_workbook(path)
        except Exception:  # a deliberately broken workbook: its size says enough
            result[path.name] = ("illisible", path.stat().st_size > 0)
            continue
        result[path.name] = [
            (
                sheet.title,
                [list(row) for row in sheet.iter_rows(values_only=True)],
                sorted(str(r) for r in sheet.merged_cells.ranges),
            )
            for sheet in workbook.worksheets
        ]
    return result


if __name__ == "__main__":
    names = build()
    print(f"{len(names)} cas écrits dans {OUT}")
