"""The fictitious sample in data/exemple: reproducible, geographically true, well shaped.

The sample is what a new user sees first and what the notebooks run on by default,
so it must be exactly what `python -m avs_eval.sample` writes, its communes must be
real ones with their real INSEE codes, and it must exercise the features the
reports rely on (small territories, openings and closings, non-response, trends).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from avs_eval import paths, sample
from avs_eval.catalog import load_catalog
from avs_eval.loading import load
from avs_eval.schema import STRUCTURE_OPTIONAL, STRUCTURE_REQUIRED, normalise

REFERENCE = Path(paths.PROJECT_ROOT).parent / "shared" / "reference"
FILES = ("structures.csv", "reponses.csv")
METROPOLE_TERRITORIES = (
    "Lyon",
    "Villeurbanne",
    "Rhône Amont",
    "Porte des Alpes",
    "Les Portes du Sud",
    "Lônes et Coteaux du Rhône",
    "Val d'Yzeron",
    "Plateau Nord",
    "Val de Saône",
    "Ouest Nord",
)

CATALOG = load_catalog()
FOLLOW_UPS = {
    "permanence_partenaires": "permanence_partenaire",
    "aller_vers_lieux": "aller_vers_partenaire",
    "contrats": "contrat_local",
    "accompagnement_gouvernance": "difficultes_gouvernance",
}


def read(name: str) -> list[dict[str, str]]:
    with open(paths.SAMPLE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def structures() -> list[dict[str, str]]:
    return read("structures.csv")


@pytest.fixture(scope="module")
def responses() -> list[dict[str, str]]:
    return read("reponses.csv")


def approved(structure: dict[str, str], year: int) -> bool:
    start, end = structure["annee_debut"], structure["annee_fin"]
    return (not start or int(start) <= year) and (not end or year <= int(end))


# --- (a) reproducible --------------------------------------------------------------


def test_regenerating_gives_the_committed_files(tmp_path: Path) -> None:
    sample.generate(tmp_path)
    for name in FILES:
        committed = (paths.SAMPLE_DIR / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, (
            f"{name} differs from a fresh run: regenerate with `python -m avs_eval.sample`"
        )


def test_files_are_plain_utf8_with_unix_line_ends() -> None:
    for name in FILES:
        raw = (paths.SAMPLE_DIR / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in raw
        raw.decode("utf-8")


# --- (b) real communes ---------------------------------------------------------------


def loose(name: str) -> str:
    """Commune names compared without accents, punctuation or leading article."""
    words = normalise(name).replace("'", " ").replace("-", " ").split()
    if words and words[0] in ("l", "le", "la", "les"):
        words = words[1:]
    return " ".join(words)


@pytest.fixture(scope="module")
def reference() -> tuple[dict[str, str], dict[str, str]]:
    metropole_file = REFERENCE / "communes_metropole_lyon.json"
    rhone_file = REFERENCE / "communes-69-rhone.geojson"
    if not (metropole_file.exists() and rhone_file.exists()):
        pytest.skip(f"public reference data absent from {REFERENCE}")
    metropole = {c["code"]: c["nom"] for c in json.loads(metropole_file.read_text("utf-8"))}
    features = json.loads(rhone_file.read_text("utf-8"))["features"]
    department = {f["properties"]["code"]: f["properties"]["nom"] for f in features}
    return metropole, department


def test_communes_and_insee_codes_are_real(structures, reference) -> None:
    metropole, department = reference
    wrong = []
    for s in structures:
        code, commune = s["code_insee"], s["commune"]
        if s["collectivite"] == "Métropole de Lyon":
            known = metropole.get(code)
        else:
            known = department.get(code) if code not in metropole else None
        if known is None or loose(known) != loose(commune):
            wrong.append(f"{s['structure_id']} {code} {commune} (référence : {known})")
    assert not wrong, "communes absentes de la référence :\n" + "\n".join(wrong)


# --- (c) shape -------------------------------------------------------------------------


def test_headers_follow_the_contract() -> None:
    for name, columns in zip(
        FILES, (STRUCTURE_REQUIRED + STRUCTURE_OPTIONAL, CATALOG.response_columns), strict=True
    ):
        with open(paths.SAMPLE_DIR / name, encoding="utf-8", newline="") as handle:
            assert tuple(next(csv.reader(handle))) == columns


def test_structures_shape(structures) -> None:
    assert 130 <= len(structures) <= 170
    assert len({s["structure_id"] for s in structures}) == len(structures)
    cs_share = sum(s["type"] == "CS" for s in structures) / len(structures)
    assert 0.65 <= cs_share <= 0.75
    assert {s["type"] for s in structures} == {"CS", "EVS"}
    territories = {s["territoire"] for s in structures if s["collectivite"] == "Métropole de Lyon"}
    assert territories == set(METROPOLE_TERRITORIES)
    size = {t: sum(s["territoire"] == t for s in structures) for t in territories}
    assert size["Ouest Nord"] < 5  # a small territory, so secrecy shows in the reports
    assert {s["qpv"] for s in structures} == {"oui", "non"}
    assert any(s["annee_debut"] and int(s["annee_debut"]) > 2022 for s in structures)
    assert any(s["annee_fin"] for s in structures)


def test_responses_shape(structures, responses) -> None:
    by_id = {s["structure_id"]: s for s in structures}
    years = sorted({int(r["annee"]) for r in responses})
    assert years == [2022, 2023, 2024, 2025]
    keys = [(int(r["annee"]), r["structure_id"]) for r in responses]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert all(approved(by_id[sid], year) for year, sid in keys)
    rates = []
    for year in years:
        register = [s for s in structures if approved(s, year)]
        rates.append(sum(y == year for y, _ in keys) / len(register))
    assert rates == sorted(rates) and rates[0] < 0.9 and rates[-1] < 1


def test_answers_are_consistent_but_for_two_deliberate_rows(responses) -> None:
    inconsistent = [
        (r["structure_id"], r["annee"], column)
        for r in responses
        for column, condition in FOLLOW_UPS.items()
        if r[column] and r[condition] != "oui"
    ]
    assert sorted(c for _, _, c in inconsistent) == ["contrats", "permanence_partenaires"]
    for r in responses:
        channels = r["communication_canaux"].split(";")
        assert "aucun" not in channels or channels == ["aucun"]
        assert bool(r["communication_autre"]) == ("autre" in channels)
        if r["annee"] == "2022":
            assert not r["projet_social_partage"] and not r["difficultes_gouvernance"]


def test_the_sample_loads_with_only_the_deliberate_warnings() -> None:
    dataset = load()
    assert len(dataset.warnings) == 2
