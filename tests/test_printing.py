"""The print step's bookkeeping, and what the year's index and manifest say (fast, no kernel).

A staging folder with two small pages stands for a batch: the Word files are written
from them (`printing.print_step`), a failure is said in the summary and the exit code
and leaves its report out of the state (so the next batch re-makes it); the index lists
the synthesis first, in French, and the manifest's keys are French.
"""

from __future__ import annotations

import types
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


# --- printing while the notebooks run ------------------------------------------------------


class _Printer:
    """Stands for the print step: what it was handed, and when."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def add(self, outcome: Outcome) -> None:
        self.events.append(f"imprimé {outcome.name}")


class _Workers:
    """Stands for the workers: each notebook « runs » (an event), then is done."""

    def __init__(self, events: list[str], outcomes: list[Outcome]) -> None:
        self.events, self.outcomes = events, outcomes

    def share(self, context) -> None:
        pass

    def run(self, work, timeout, progress, done) -> list[Outcome]:
        for outcome in self.outcomes:
            self.events.append(f"exécuté {outcome.name}")
            done(outcome)
        return self.outcomes


class _Publication:
    def __init__(self, staging: Path) -> None:
        self.staging, self.final = staging, staging.parent / str(YEAR)

    def keep_previous(self, failed: list[Outcome]) -> None:
        for outcome in failed:  # Bron had a good report last year, Caluire none
            outcome.kept_previous = outcome.name == "Bron"


class _Plan:
    class options:  # stands for BatchOptions
        delai, progress = 60, False

    class dependencies:  # stands for freshness.Dependencies
        data_day = None

    def jobs(self, todo, staging, final) -> list:
        return todo


def test_each_report_is_handed_to_the_printer_as_soon_as_its_notebook_is_done(staged) -> None:
    """The batch prints while it runs: a report's PDF is asked for before the next
    notebook runs, not after the last one; a report that failed is printed from the
    previous page it kept, and one with no previous page is not printed."""
    from avs_eval import batch

    staging, outcomes, _ = staged
    failed = [
        Outcome(name, "rapport", str(staging / name.lower()), "echec", 1.0, "panne")
        for name in ("Bron", "Caluire")
    ]
    events: list[str] = []
    record = _record(staging, outcomes, [])
    record.log = type("Journal", (), {"notebook": lambda self, outcome: None})()
    made, _ = batch._run(
        _Plan(), ["lyon"], types.SimpleNamespace(), _Workers(events, [*outcomes, *failed]),
        _Publication(staging), record, _Printer(events),
    )  # fmt: skip
    assert events == [
        "exécuté Lyon", "imprimé Lyon", "exécuté Synthèse", "imprimé Synthèse",
        "exécuté Bron", "exécuté Caluire", "imprimé Bron",
    ]  # fmt: skip
    assert [outcome.name for outcome in made] == ["Lyon", "Synthèse", "Bron", "Caluire"]


@pytest.mark.lent
def test_a_pdf_and_its_word_file_are_written_before_the_batch_says_it_is_done(staged) -> None:
    """The print queue writes a report's files as soon as it is handed over, while the
    batch goes on (its `finish` not called yet); `finish` says what was written in the
    batch's order, whatever the order the notebooks finished in."""
    import shutil
    import time

    if not shutil.which("chromium"):
        pytest.skip("chromium absent")
    from avs_eval.printing import PrintQueue

    staging, outcomes, _ = staged
    lyon, synthesis = outcomes
    options = PrintOptions(pdf=True, docx=True, navigateur="chromium").checked()
    with PrintQueue(staging, YEAR, False, options) as queue:
        queue.add(synthesis)  # the synthesis' notebook is done first
        assert (staging / "synthese.docx").is_file()  # Word: written at once
        deadline = time.monotonic() + 120  # a loaded machine: not a timing assertion
        while not (staging / "synthese.pdf").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (staging / "synthese.pdf").is_file(), "PDF not printed before the batch's end"
        assert not (staging / "lyon" / "rapport.pdf").exists()
        queue.add(lyon)
        printed = queue.finish(outcomes)
    assert printed.exit_code == 0, printed.lines()
    assert [document.name for document in printed.pdf.printed] == ["Lyon", "Synthèse"]
    assert [file.name for file in printed.word.written] == ["Lyon", "Synthèse"]
    for name in ("lyon/rapport.pdf", "envoi/lyon-2025.pdf", "envoi/synthese-2025.pdf",
                 "lyon/rapport.docx", "envoi/synthese-2025.docx"):  # fmt: skip
        assert (staging / name).is_file(), name
    assert printed.lines()[0].startswith("2 PDF en")
