"""The print step's bookkeeping, and what the year's index and manifest say (fast, no kernel).

A staging folder with two small pages stands for a batch: the Word files are written
from them (`printing.print_step`), a failure is said in the summary and the exit code
and leaves its report out of the state (so the next batch re-makes it); the index lists
the synthesis first, in French, and the manifest's keys are French.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from avs_eval import freshness, paths, testhooks
from avs_eval.errors import EXIT_ENVIRONMENT
from avs_eval.execution import Outcome
from avs_eval.printing import PrintOptions, print_step
from avs_eval.publication import render_index
from avs_eval.record import BatchRecord
from avs_eval.sources import DataSource

YEAR = 2025
PAGE = (
    "<!DOCTYPE html><html lang='fr'><head><title>{name} — évaluation PA 3.1.2, 2025</title>"
    "</head><body><main><h1>{name}</h1><p>Texte du rapport.</p></main></body></html>"
)


class _Journal:
    def note(self, text: str) -> None:
        pass


@pytest.fixture
def staged(tmp_path: Path) -> tuple[Path, list[Outcome], list[freshness.Decision]]:
    staging = tmp_path / f".{YEAR}.en-cours-1"
    (staging / "lyon").mkdir(parents=True)
    (staging / "lyon" / "rapport.html").write_text(PAGE.format(name="Lyon"), encoding="utf-8")
    (staging / "synthese.html").write_text(PAGE.format(name="Synthèse"), encoding="utf-8")
    outcomes = [
        Outcome("Lyon", "rapport", str(staging / "lyon"), "ok", 1.0, why=freshness.NEW),
        Outcome("Synthèse", "synthese", str(staging), "ok", 1.0, why=freshness.NEW),
    ]
    reports = [freshness.Report("Lyon", "lyon"), freshness.Report("Synthèse", ".")]
    decisions = [freshness.Decision(report, True, [freshness.NEW]) for report in reports]
    return staging, outcomes, decisions


def _record(staging: Path, outcomes: list[Outcome], decisions) -> BatchRecord:
    record = BatchRecord(YEAR, staging.parent / str(YEAR), outcomes=outcomes, say=lambda _: None)
    record.decisions, record.log = decisions, _Journal()
    return record


def test_word_files_beside_the_pages_copies_to_send_summary_and_state(staged) -> None:
    staging, outcomes, decisions = staged
    printed = print_step(outcomes, staging, YEAR, False, PrintOptions(docx=True).checked())
    assert printed.exit_code == 0 and printed.pdf is None
    for name in ("lyon/rapport.docx", "synthese.docx", "envoi/lyon-2025.docx",
                 "envoi/synthese-2025.docx"):  # fmt: skip
        assert (staging / name).is_file(), name
    record = _record(staging, outcomes, decisions)
    record.printed(printed)
    assert "2 fichiers Word en" in record.summary() and record.exit_code() == 0
    dependencies = freshness.Dependencies(dict.fromkeys(freshness.COMPONENTS, "x"), {})
    state = record.state(staging, dependencies, {"lyon": "", ".": ""}, {})
    assert "envoi/lyon-2025.docx" in state["rapports"]["lyon"]["fichiers"]
    assert "synthese.docx" in state["rapports"]["."]["fichiers"]
    assert "envoi/synthese-2025.docx" in state["rapports"]["."]["fichiers"]
    rows = record.index_rows(staging)
    assert [row["nom"] for row in rows] == ["Synthèse", "Lyon"]  # the synthesis first
    assert rows[1]["tables"][0] == "lyon/rapport.docx"
    assert all(row["detail"] == "" for row in rows)  # « absent du lot précédent » is not news


def test_a_word_file_that_cannot_be_written_is_said_and_its_report_remade_next_time(
    staged, monkeypatch
) -> None:
    staging, outcomes, decisions = staged
    monkeypatch.setenv(testhooks.ENV, "disque-plein:*/lyon/rapport.docx")
    printed = print_step(outcomes, staging, YEAR, False, PrintOptions(docx=True).checked())
    record = _record(staging, outcomes, decisions)
    record.printed(printed)
    summary = record.summary()
    assert "ÉCHEC Word Lyon (le rapport HTML est publié)" in summary
    assert "Fichiers Word non produits : disque plein" in summary
    assert record.exit_code() == EXIT_ENVIRONMENT
    dependencies = freshness.Dependencies(dict.fromkeys(freshness.COMPONENTS, "x"), {})
    state = record.state(staging, dependencies, {"lyon": "", ".": ""}, {})
    assert "lyon" not in state["rapports"]  # not recorded: the next batch re-makes it


def test_the_internal_edition_names_its_files_and_sends_none(staged) -> None:
    staging, outcomes, _ = staged
    printed = print_step(outcomes, staging, YEAR, True, PrintOptions(docx=True).checked())
    assert printed.exit_code == 0
    assert (staging / "lyon" / "rapport-interne.docx").is_file()
    assert (staging / "synthese-interne.docx").is_file()
    assert not (staging / "envoi").exists()
    assert paths.edition_file("rapport", ".pdf", True) == "rapport-interne.pdf"


def test_the_index_counts_in_french_and_lists_the_synthesis_first(staged) -> None:
    staging, outcomes, decisions = staged
    record = _record(staging, outcomes, decisions)
    page = render_index(YEAR, record.index_rows(staging), is_sample=False)
    assert "2 rapports produits." in page and "(s)" not in page
    assert page.index("synthese.html") < page.index("lyon/rapport.html")
    assert freshness.NEW not in page
    outcomes[0].status, outcomes[0].error = "echec", "échec volontaire"
    page = render_index(YEAR, record.index_rows(staging), is_sample=False)
    assert "1 rapport produit sur 2." in page and "échec volontaire" in page


def test_the_manifests_keys_are_french(staged) -> None:
    staging, outcomes, decisions = staged
    record = _record(staging, outcomes, decisions)
    manifest = record.manifest(staging, {}, DataSource.sample(), None)
    entry = manifest["notebooks"][0]
    assert set(entry) == {
        "nom", "fichier", "etat", "erreur", "precedent_conserve", "octets_html", "dossier",
        "secondes", "secondes_cellules", "refait", "raison",
    }  # fmt: skip
    assert {"refaits", "repris"} <= set(manifest)
    record.take_manifest(manifest, staging)  # a batch kept ready to publish reads it back
    assert [(o.name, o.stem, o.status) for o in record.outcomes] == [
        ("Lyon", "rapport", "ok"),
        ("Synthèse", "synthese", "ok"),
    ]


def test_printing_options_fingerprint_follows_docx_and_the_template(tmp_path) -> None:
    template = tmp_path / "modele.docx"
    template.write_bytes(b"un")
    assert PrintOptions().fingerprint() == {"pdf": False}  # as before --docx existed
    with_docx = PrintOptions(docx=True).fingerprint()
    with_template = PrintOptions(docx=True, modele_word=str(template)).fingerprint()
    assert with_docx != {"pdf": False} and with_template != with_docx
    template.write_bytes(b"deux")
    assert PrintOptions(docx=True, modele_word=str(template)).fingerprint() != with_template
