"""The secrecy audit: what an attacker holding every published figure infers of a masked one.

Hand-made tables reproduce the leaks of issue 24 (a QPV part equal to its territory, masked
parts forced to 100 % by the shown ones); a brute-force attacker enumerates every integer
table consistent with what is published and checks each masked cell keeps an interval of
at least the protection level. The published changes no longer decode into paired counts.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from avs_eval import audit, secrecy
from avs_eval.catalog import RESPONSE_RATE
from avs_eval.schema import ALL_PERIMETER

COLLECTIVITES = {"A": "C", "B": "C", "D": "C"}


def _rows(rows: list[tuple], threshold: int = 5) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["niveau", "perimetre", "indicateur", "numerateur", "denominateur"]
    )
    return frame.assign(
        annee=2025, modalite="", type=ALL_PERIMETER, secret=frame["denominateur"] < threshold
    )


def _part_equal_to_whole() -> pd.DataFrame:
    """Territory A has all its structures out of a QPV: « A · Hors QPV » is A itself."""
    return _rows(
        [
            ("collectivite", "C", "contrat_local", 20, 30),
            ("territoire", "A", "contrat_local", 6, 8),
            ("territoire", "B", "contrat_local", 2, 3),
            ("territoire", "D", "contrat_local", 12, 19),
            ("territoire_qpv", "A · Hors QPV", "contrat_local", 6, 8),
        ]
    )


def _forced_full() -> pd.DataFrame:
    """14 of 16 respond; the shown territories leave 5 for M and X, 2 + 3 structures."""
    return _rows(
        [
            ("collectivite", "R", RESPONSE_RATE, 14, 16),
            ("territoire", "E", RESPONSE_RATE, 4, 5),
            ("territoire", "V", RESPONSE_RATE, 5, 6),
            ("territoire", "M", RESPONSE_RATE, 2, 2),
            ("territoire", "X", RESPONSE_RATE, 3, 3),
        ]
    )


def _masked(table: pd.DataFrame, collectivites: dict, protection: int) -> np.ndarray:
    return secrecy.apply(table, collectivites, protection=protection)[secrecy.MASK].to_numpy()


def test_a_part_equal_to_its_whole_is_masked_with_it():
    table = _part_equal_to_whole()
    model = audit.build_model(table, secrecy.additive_relations(table, COLLECTIVITES))
    # the pattern of the first secondary rule alone: A is read in the QPV table, B by
    # difference (what the published sample leaked for Est lyonnais in 2025)
    leaky = np.array([False, True, True, False, False])
    narrow = {i.cell[2]: i.width for i in audit.intervals(model, leaky)}
    assert narrow == {"A": 0, "B": 0}
    # the secondary rules now mask a part equal to its whole with it
    before = _masked(table, COLLECTIVITES, 0)
    assert before.tolist() == [False, True, True, False, True]
    assert min(i.width for i in audit.intervals(model, before)) >= 1
    after = _masked(table, COLLECTIVITES, 1)
    assert after[4]
    assert min(i.width for i in audit.intervals(model, after)) >= 1


def test_masked_parts_are_not_forced_to_100_percent():
    table = _forced_full()
    collectivites = {"E": "R", "V": "R", "M": "R", "X": "R"}
    # primary and the first secondary rules alone leave M and X at 100 % (issue 24, leak 3)
    leaky = np.array([False, False, False, True, True])
    model = audit.build_model(table, secrecy.additive_relations(table, collectivites))
    assert {i.numerateur for i in audit.intervals(model, leaky)} == {(2, 2), (3, 3)}
    # the secondary rules now see it (Fréchet bounds of what the shown parts leave) ...
    simple = _masked(table, collectivites, 0)
    assert simple.tolist() == [False, True, False, True, True]
    _brute_force_attacker(table, simple, collectivites, protection=1)
    # ... and the audit agrees
    after = _masked(table, collectivites, 1)
    assert after.sum() >= simple.sum()
    _brute_force_attacker(table, after, collectivites, protection=1)


def test_masked_parts_are_not_forced_to_0_percent_but_a_published_0_is_the_limit():
    """Shown parts take all 3 of the total: the masked ones are forced to 0 %."""
    rows = [
        ("collectivite", "R", "contrat_local", 3, 16),
        ("territoire", "E", "contrat_local", 1, 5),
        ("territoire", "V", "contrat_local", 2, 6),
        ("territoire", "M", "contrat_local", 0, 2),
        ("territoire", "X", "contrat_local", 0, 3),
    ]
    collectivites = {"E": "R", "V": "R", "M": "R", "X": "R"}
    simple = _masked(_rows(rows), collectivites, 0)
    assert simple.sum() == 3
    _brute_force_attacker(_rows(rows), simple, collectivites, protection=1)
    # the same with R at 0 %: every territory is 0 %, published as such by R itself
    zero = [(*row[:3], 0, row[4]) for row in rows]
    assert _masked(_rows(zero), collectivites, 0).sum() == 2


def _brute_force_attacker(table, masked, collectivites, protection):
    """Every integer response count of the masked territories consistent with what is
    published (the collectivité's total when shown, the register's structures)."""
    territories = table[table["niveau"] == "territoire"].reset_index()
    total = table[table["niveau"] == "collectivite"].iloc[0]
    hidden = [i for i, row in territories.iterrows() if masked[row["index"]]]
    shown = territories[[not masked[i] for i in territories["index"]]]
    ranges = [range(int(territories.loc[i, "denominateur"]) + 1) for i in hidden]
    total_masked = masked[table.index[table["niveau"] == "collectivite"][0]]
    feasible = []
    for values in itertools.product(*ranges):
        if total_masked or sum(values) + shown["numerateur"].sum() == total["numerateur"]:
            feasible.append(values)
    for k, i in enumerate(hidden):
        seen = {v[k] for v in feasible}
        d = int(territories.loc[i, "denominateur"])
        assert max(seen) - min(seen) >= min(protection, d), territories.loc[i, "perimetre"]
        assert min(seen) < d  # not forced to 100 %
        assert max(seen) > 0  # nor to 0 %


@pytest.fixture(scope="module")
def context():
    from avs_eval.context import build_context
    from avs_eval.sources import DataSource

    return build_context(DataSource.sample())


def test_published_changes_do_not_decode_into_paired_counts(context):
    from avs_eval import evolutions

    year = max(context.years)
    full = context.published_evolutions(year)
    internal = context.evolutions(year)
    shown = evolutions.published_form(full, context.table)
    assert {p for p in shown["p_valeur"] if isinstance(p, str)} <= {
        "< 0,001",
        "< 0,01",
        "< 0,05",
        "≥ 0,05",
    }
    bounds = evolutions._paired_bound(shown, context.table)
    table = evolutions.mcnemar_table(max(bounds))
    decoded = [
        evolutions.decodings(int(gap), label, n_max, table)
        for gap, label, n_max in zip(shown["ecart_apparie"], shown["p_valeur"], bounds, strict=True)
        if not pd.isna(gap) and isinstance(label, str)
    ]
    assert decoded and min(decoded) >= 2
    # the same rows at full precision (today's evolutions.csv) decode, some uniquely
    leaks = 0
    for _, row in internal[~full["secret"].astype(bool)].iterrows():
        if pd.isna(row["ecart_apparie"]):
            continue
        n, b, c = int(row["n_apparies"]), int(row["passes_oui"]), int(row["passes_non"])
        same = [
            (m, x, y)
            for m in range(1, n + 3)
            for x in range(m + 1)
            for y in range(m + 1 - x)
            if abs((x - y) / m - row["ecart_apparie"]) < 1e-12
            and abs(table[x, y] - row["p_valeur"]) < 1e-12
        ]
        leaks += same == [(n, b, c)]
    assert leaks > 0


def test_a_published_zero_says_it_of_its_parts_and_is_no_failure():
    """C shown at 0 %: its masked territories are 0 % too, the documented limit; the
    audit masks nothing more for them (masking could not hide it)."""
    table = _rows(
        [
            ("collectivite", "C", "contrat_local", 0, 30),
            ("territoire", "A", "contrat_local", 0, 8),
            ("territoire", "B", "contrat_local", 0, 3),
            ("territoire", "D", "contrat_local", 0, 19),
        ]
    )
    model = audit.build_model(table, secrecy.additive_relations(table, COLLECTIVITES))
    masked = np.array([False, True, True, False])
    assert audit.implied(model, masked).tolist() == [False, True, True, False]
    result = secrecy.audit_of(secrecy.apply(table, COLLECTIVITES, protection=2))
    assert result.ok and result.suppressions_added == 0


def test_a_cell_of_one_structure_needs_no_wider_interval_than_its_denominator():
    """A and B (one structure each) add up to a known 1: each is 0 or 1, as wide as it can be."""
    table = _rows(
        [
            ("collectivite", "C", "contrat_local", 3, 10),
            ("territoire", "A", "contrat_local", 1, 1),
            ("territoire", "B", "contrat_local", 0, 1),
            ("territoire", "D", "contrat_local", 2, 8),
        ]
    )
    masked = secrecy.apply(table, COLLECTIVITES, protection=2)
    assert masked[secrecy.MASK].tolist() == [False, True, True, False]
    assert secrecy.audit_of(masked).suppressions_added == 0
    model = audit.build_model(table, secrecy.additive_relations(table, COLLECTIVITES))
    cells = audit.intervals(model, masked[secrecy.MASK])
    assert {i.numerateur for i in cells} == {(0, 1)}
    # a masked cell's denominator is no more known than its numerator: the two masked
    # territories count 2 answers between them, and each may have had both
    assert {i.denominateur for i in cells} == {(0, 2)}


def test_no_masked_share_of_the_sample_is_forced_by_what_its_sum_publishes(context):
    """Issue 24, leak 3, on the sample's published table: in every sum of territories into
    their collectivité (and of collectivités into Ensemble), what the shown parts leave
    never forces a masked part to one value, unless the total itself is 0 % or 100 %."""
    table = context.table
    collectivite_of = context.dataset.collectivites
    keys = ["annee", "indicateur", "modalite", "type"]
    parts = table[table["niveau"] == "territoire"].assign(
        total=lambda t: t["perimetre"].map(collectivite_of)
    )
    upper = table[table["niveau"] == "collectivite"].assign(total=ALL_PERIMETER)
    totals = table[table["niveau"].isin(["collectivite", "departement"])]
    checked = 0
    for level_parts in (parts, upper):
        for (total, *key), group in level_parts.groupby(["total", *keys], sort=False):
            whole = totals[
                (totals["perimetre"] == total)
                & (totals[keys] == pd.Series(dict(zip(keys, key, strict=True)))).all(axis=1)
            ]
            if whole.empty or whole["masque"].iloc[0] or group["masque"].sum() < 2:
                continue
            n, d = int(whole["numerateur"].iloc[0]), int(whole["denominateur"].iloc[0])
            if n in (0, d):
                continue  # the stated limit
            hidden = group[group["masque"]]
            left = n - group.loc[~group["masque"], "numerateur"].sum()
            room = hidden["denominateur"].sum()
            for share_d in hidden["denominateur"]:
                low, high = max(0, left - (room - share_d)), min(share_d, left)
                assert share_d == 0 or high > low, (total, key)
                checked += 1
    assert checked > 100


def _respondents_read_from_a_question() -> pd.DataFrame:
    """E's 8 structures all answered: its rate is masked (to protect M), but its published
    question counts 8 answers, which says every structure of E responded."""
    table = _rows(
        [
            ("collectivite", "R", RESPONSE_RATE, 19, 21),
            ("territoire", "E", RESPONSE_RATE, 8, 8),
            ("territoire", "M", RESPONSE_RATE, 3, 3),
            ("territoire", "V", RESPONSE_RATE, 8, 10),
            ("collectivite", "R", "contrat_local", 12, 19),
            ("territoire", "E", "contrat_local", 6, 8),
            ("territoire", "M", "contrat_local", 2, 3),
            ("territoire", "V", "contrat_local", 4, 8),
        ]
    )
    return table


def test_the_attacker_reads_respondents_from_a_published_question_not_a_masked_one():
    table = _respondents_read_from_a_question()
    collectivites = {"E": "R", "M": "R", "V": "R"}
    model = audit.build_model(table, secrecy.additive_relations(table, collectivites))
    # M (3 structures) masked with E, whose published question counts 8 answers: E's 8 of
    # 8 is read, and M's 3 of 3 by difference
    masked = np.array([False, True, True, False, False, False, True, True])
    cells = {(i.cell[3], i.cell[2]): i for i in audit.intervals(model, masked)}
    assert cells[(RESPONSE_RATE, "E")].numerateur == (8, 8)
    assert cells[(RESPONSE_RATE, "M")].numerateur == (3, 3)
    # M's and V's questions are masked: what the shown parts leave (6 of 11) is shared
    assert cells[("contrat_local", "M")].numerateur == (0, 3)
    # the audit protects M, the sensitive cell, by masking V's rate (not E's question):
    # E's rate stays narrow, but E is no secret
    protected, result = audit.protect(model, masked, 1)
    assert result.ok and protected[3] and not protected[5]
    cells = {(i.cell[3], i.cell[2]): i for i in audit.intervals(model, protected)}
    low, high = cells[(RESPONSE_RATE, "M")].numerateur
    assert low < high == 3  # M may have had a non-respondent
    assert cells[(RESPONSE_RATE, "E")].numerateur == (8, 8)


def test_the_audit_protects_what_the_simple_rules_leave_on_the_sample(context):
    """2025, the response rate and three indicators (one a list with its codes): the simple
    rules leave sensitive cells that a solver narrows to one value or to 0 % / 100 %; after
    the audit (whose later rounds look for room near each failing cell only), a full audit
    of the pattern finds none, and each sensitive cell's exact interval is wide."""
    from avs_eval.context import unmasked_table

    table = unmasked_table(context.dataset)
    keep = [RESPONSE_RATE, "contrat_local", "contrats", "aller_vers_partenaire"]
    table = table[(table["annee"] == 2025) & table["indicateur"].isin(keep)]
    table = table.reset_index(drop=True).assign(secret=lambda t: t["denominateur"] < 5)
    collectivites = context.dataset.collectivites
    model = audit.build_model(table, secrecy.additive_relations(table, collectivites))
    simple = _masked(table, collectivites, 0)
    assert len(audit.audit(model, simple, 1)[0]) > 0
    masked = secrecy.apply(table, collectivites, protection=1)
    result = secrecy.audit_of(masked)
    assert result.ok and result.suppressions_added > 0
    assert result.narrowest is not None and result.narrowest.width >= 1
    failing, problem, _ = audit.audit(model, masked[secrecy.MASK].to_numpy(), 1)
    assert len(failing) == 0
    sensitive = np.flatnonzero(model.audited[problem.rows] & ~problem.implied)
    sensitive = [j for j in sensitive if model.values[model.size + problem.rows[j]] > 0]
    assert len(sensitive) > 50
    assert min(audit._exact(problem, int(j)).width for j in sensitive) >= 1
    # only cells that were shown get masked, and the sensitive ones stay masked
    assert (masked[secrecy.MASK].to_numpy() >= simple).all()


def test_the_audit_s_result_is_kept_by_content_and_reused(tmp_path, monkeypatch):
    """The audit costs minutes on a year's table: a batch, a notebook and the explorer
    reading the same data pay it once. Keyed by the table's content and the level."""
    from avs_eval import paths

    monkeypatch.setattr(paths, "AUDIT_CACHE_DIR", tmp_path)
    table = _forced_full()
    collectivites = {"E": "R", "V": "R", "M": "R", "X": "R"}
    first = secrecy.apply(table, collectivites, protection=1)
    assert len(list(tmp_path.rglob("*.pickle"))) == 1

    def no_second_audit(*_):
        raise AssertionError("audited twice")

    monkeypatch.setattr(audit, "protect", no_second_audit)
    again = secrecy.apply(table, collectivites, protection=1)
    assert again[secrecy.MASK].tolist() == first[secrecy.MASK].tolist()
    assert secrecy.audit_of(again).summary() == secrecy.audit_of(first).summary()
    with pytest.raises(AssertionError, match="audited twice"):  # another level: another key
        secrecy.apply(table, collectivites, protection=2)
    other = table.assign(numerateur=table["numerateur"].where(table["perimetre"] != "V", 4))
    with pytest.raises(AssertionError, match="audited twice"):  # other figures: another key
        secrecy.apply(other, collectivites, protection=1)
    (next(tmp_path.rglob("*.pickle"))).write_bytes(b"not a pickle")  # unreadable: no cache
    with pytest.raises(AssertionError, match="audited twice"):
        secrecy.apply(table, collectivites, protection=1)


def _exposed(model, masked, protection):
    cell = (2025, "territoire", "Lyon", "contrat_local", "", ALL_PERIMETER)
    return masked, audit.AuditResult(protection=protection, exposed=[cell])


def test_a_failed_audit_publishes_nothing_and_says_why(tmp_path, monkeypatch, capsys):
    from avs_eval import paths
    from avs_eval.cli import main

    monkeypatch.setattr(paths, "AUDIT_CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(secrecy, "protection_level", lambda given=None: 1)
    monkeypatch.setattr(audit, "protect", _exposed)
    mini = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"
    data = ["--structures", str(mini / "structures.csv"), "--reponses", str(mini / "reponses.csv")]
    out = tmp_path / "sortie"
    assert main(["rapports", "--annee", "2025", *data, "--sortie", str(out)]) == 1
    err = capsys.readouterr().err
    assert "audit du secret : 1 part sous le seuil reste déductible" in err
    assert "2025 · Lyon · contrat_local" in err and "Rien n'est publié" in err
    assert "niveau_protection" in err and "Traceback" not in err
    assert not (out / "2025").exists()


def test_the_journal_and_the_internal_edition_say_what_the_audit_did(context, monkeypatch):
    table = secrecy.apply(_forced_full(), {"E": "R", "V": "R", "M": "R", "X": "R"}, protection=1)
    line = secrecy.summary(table, 2025)
    assert line.startswith("secret statistique 2025 : ")
    assert "audit du secret, toutes années : " in line and "niveau de protection 1" in line
    assert "intervalle le plus étroit déductible : de " in line
    # the sample's edition: audited at the level parameters/config.yaml ships
    sample = secrecy.summary(context.table, 2025)
    assert "audit du secret, toutes années : " in sample and "niveau de protection 1" in sample
    off = secrecy.apply(_forced_full(), {"E": "R", "V": "R", "M": "R", "X": "R"}, protection=0)
    assert "pas d'audit du secret (niveau de protection 0)" in secrecy.summary(off, 2025)


def test_the_audit_s_result_rides_along_slices_without_being_copied(context):
    """pandas deep-copies `attrs` at every slice: the result is shared, not copied (it was
    two thirds of a warm report's time), and still says what the audit did."""
    result = secrecy.audit_of(context.table)
    assert result is not None and result.added
    rows = context.table[context.table["annee"] == 2025].iloc[:10]
    assert secrecy.audit_of(rows) is result
    assert secrecy.audit_of(rows.assign(x=1).sort_values("perimetre")) is result


def test_the_partner_report_names_the_cells_the_audit_masked(context, monkeypatch):
    """With the audit on, a reader sees « s » where a figure seemed publishable: the
    report's secrecy note says which of its cells the audit masked, and why."""
    from avs_eval.report import TerritoryReport

    added = [
        (2025, "territoire", "Lyon", "contrat_local", "", ALL_PERIMETER),
        (2025, "territoire", "Lyon", "permanence_partenaires", "pmi", ALL_PERIMETER),
        (2025, "territoire", "Villeurbanne", "contrat_local", "", ALL_PERIMETER),
        (2024, "territoire", "Lyon", "instances_coordination", "", ALL_PERIMETER),
        (2025, "territoire_qpv", "Lyon · En QPV", "contrat_local", "", ALL_PERIMETER),
    ]
    result = audit.AuditResult(protection=1, suppressions_added=len(added), added=added)
    monkeypatch.setitem(context.table.attrs, secrecy.AUDIT, result)
    assert len(secrecy.audit_added(context.table, 2025)) == 3
    report = TerritoryReport("Lyon", 2025)
    monkeypatch.setattr(report, "context", context, raising=False)
    note = report.audit_note()
    assert note.startswith("Pour qu'aucune part masquée ne puisse être recalculée")
    assert "2 parts de plus sont masquées en 2025 : Lyon (" in note
    assert "Villeurbanne" not in note and "QPV" not in note
    assert "pmi" in note.lower() or "protection maternelle" in note.lower()
    assert note in report.secrecy_note().data
    monkeypatch.setitem(context.table.attrs, secrecy.AUDIT, None)
    assert report.audit_note() == ""


def test_the_sample_s_edition_passes_an_audit_that_trusts_no_witness(context):
    """Every year and every cell, masked as the batch masks them (the level of
    parameters/config.yaml): an audit from scratch, which trusts none of the tables the
    suppression LP left as witnesses (`audit._repair`), finds no sensitive share narrowed
    below the level nor forced to 0 % or 100 %; the batch's figures are those of this
    pattern, and the partner edition has cells to name."""
    from avs_eval.config import load_config
    from avs_eval.context import unmasked_table

    level = secrecy.protection_level()
    assert level >= 1  # the shipped setting audits
    table = unmasked_table(context.dataset)
    table = table.assign(secret=table["denominateur"].to_numpy() < load_config().min_effectif)
    collectivites = context.dataset.collectivites
    masked = secrecy.apply(table, collectivites)
    result = secrecy.audit_of(masked)
    assert result.ok and result.protection == level
    assert secrecy.audit_of(context.table).added == result.added
    model = audit.build_model(table, secrecy.additive_relations(table, collectivites))
    failing, problem, _ = audit.audit(model, masked[secrecy.MASK].to_numpy(), level)
    assert len(failing) == 0
    assert problem.count > 10_000 and model.audited[problem.rows].sum() > 2_000
    assert len(secrecy.audit_added(context.table, 2025)) > 0


def test_the_audit_s_kept_results_are_keyed_by_its_code(tmp_path, monkeypatch):
    """A result kept by an earlier version of the audit is never returned by a later one:
    the key holds the source of the modules that decide the pattern (a version number
    bumped by hand was forgotten)."""
    from avs_eval import paths

    monkeypatch.setattr(paths, "AUDIT_CACHE_DIR", tmp_path)
    table = _forced_full()
    collectivites = {"E": "R", "V": "R", "M": "R", "X": "R"}
    secrecy.apply(table, collectivites, protection=1)
    kept = set(tmp_path.rglob("*.pickle"))
    code = secrecy._audit_code()
    assert code == secrecy._audit_code.__wrapped__()  # the cached key is the code's
    monkeypatch.setattr(secrecy, "_audit_code", lambda: code + "-modifié")
    secrecy.apply(table, collectivites, protection=1)
    assert len(kept) == 1 and len(set(tmp_path.rglob("*.pickle")) - kept) == 1


def test_the_audit_s_kept_results_do_not_pile_up(tmp_path, monkeypatch):
    """Each change of the audit's code starts a folder of results the earlier ones can
    never be: they go once unused for an hour (a kernel started before an update may
    still use its own), with the writes of killed processes; beyond `KEPT_AUDITS`, the
    least recently used go first."""
    import os
    import time

    from avs_eval import paths

    monkeypatch.setattr(paths, "AUDIT_CACHE_DIR", tmp_path)
    monkeypatch.setattr(secrecy, "KEPT_AUDITS", 2)
    hours_ago = time.time() - 2 * 3600

    def made(path, old=False):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        if old:
            os.utime(path, (hours_ago, hours_ago))
        return path

    code = secrecy._audit_code()
    earlier = made(tmp_path / "ancien-code" / "r.pickle", old=True).parent
    os.utime(earlier, (hours_ago, hours_ago))
    running = made(tmp_path / "code-d-un-noyau-ouvert" / "r.pickle").parent
    os.utime(running, (hours_ago, hours_ago))  # a result read a moment ago keeps its folder
    flat = made(tmp_path / "avant-les-dossiers.pickle", old=True)
    killed = made(tmp_path / code / ".r.pickle.abc.tmp", old=True)
    writing = made(tmp_path / code / ".s.pickle.def.tmp")
    table = _forced_full()
    collectivites = {"E": "R", "V": "R", "M": "R", "X": "R"}
    secrecy.apply(table, collectivites, protection=1)
    first = next((tmp_path / code).glob("*.pickle"))
    assert not earlier.exists() and not flat.exists() and not killed.exists()
    assert running.exists() and writing.exists()
    time.sleep(0.05)
    secrecy.apply(table, collectivites, protection=2)
    os.utime(first, (hours_ago, hours_ago))  # least recently used...
    secrecy.apply(table, collectivites, protection=1)  # ...until read again
    secrecy.apply(table.assign(numerateur=table["numerateur"] + 1), collectivites, protection=1)
    left = set((tmp_path / code).glob("*.pickle"))
    assert len(left) == 2 and first in left  # the level-2 result, unused since, went
