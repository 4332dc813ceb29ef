"""The follow-up of the actions: `parameters/suivi/<année>.yaml` read, checked, published, drawn.

Every test works on a copy of `parameters/` (the `parametres` fixture points
`paths.PARAMETERS_DIR` at it), so the shipped sample is never touched. Files outside
the project are shown by their name alone in messages (« 2025.yaml, ligne 3 »).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from avs_eval import paths, suivi
from avs_eval.config import Action, load_config
from avs_eval.errors import EXIT_INVALID, UsageError, ValidationError
from avs_eval.suivi import ActionFollowUp, Milestone, PartialDate, YearFollowUp


@pytest.fixture
def parametres(tmp_path, monkeypatch) -> Path:
    """A copy of `parameters/` (sample follow-up 2022-2025 included), used by `suivi`."""
    copy = tmp_path / "parameters"
    shutil.copytree(paths.PARAMETERS_DIR, copy)
    monkeypatch.setattr(paths, "PARAMETERS_DIR", copy)
    return copy


@pytest.fixture
def config(parametres):
    return load_config.__wrapped__(parametres / "config.yaml")


def _write(parametres: Path, annee: int, text: str) -> Path:
    path = parametres / "suivi" / f"{annee}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the sample ------------------------------------------------------------------------


def test_the_sample_follow_up_is_valid_and_tells_a_story(config):
    history = suivi.load_all(2025, config=config)
    assert sorted(history) == [2022, 2023, 2024, 2025]
    assert sorted(history[2022].actions) == [1, 2]  # actions 3-4 start in 2023
    assert history[2023].state(4) == "reportee"
    assert history[2024].state(4) == "en_cours"
    late = {(a, m.libelle) for a, f in history[2025].actions.items() for m in f.late(2025)}
    assert late == {(2, "Contribution des structures au diagnostic de l'observatoire social")}


# --- what a wrong file says ------------------------------------------------------------

VALID = """\
actions:
  - numero: 1
    etat: en_cours
    jalons:
      - {libelle: "Guide diffusé", prevu: 2025-06, realise: 2025-09}
"""

BROKEN = {
    "action_inconnue": (
        2025,
        "actions:\n  - numero: 7\n    etat: en_cours\n",
        "2025.yaml, ligne 2, clé « actions > action 7 > numero », valeur « 7 » : "
        "action inconnue de parameters/config.yaml (actions : 1, 2, 3, 4)",
    ),
    "etat_inconnu": (
        2025,
        "actions:\n  - numero: 1\n    etat: terminee\n",
        "2025.yaml, ligne 3, clé « actions > action 1 > etat », valeur « terminee » : "
        "valeur inconnue (valeurs possibles : a_engager, en_cours, realisee, reportee, "
        "abandonnee)",
    ),
    "mois_impossible": (
        2025,
        VALID.replace("prevu: 2025-06", "prevu: 2025-13"),
        "2025.yaml, ligne 5, clé « actions > action 1 > jalons > 1 > prevu », "
        "valeur « 2025-13 » : date invalide : AAAA-MM ou AAAA-MM-JJ attendu",
    ),
    "date_en_lettres": (
        2025,
        VALID.replace("prevu: 2025-06", 'prevu: "juin 2025"'),
        "ligne 5, clé « actions > action 1 > jalons > 1 > prevu », valeur « juin 2025 » : "
        "date invalide",
    ),
    "annee_seule": (
        2025,
        VALID.replace("prevu: 2025-06", "prevu: 2025"),
        "ligne 5, clé « actions > action 1 > jalons > 1 > prevu », valeur « 2025 » : date invalide",
    ),
    "jour_impossible": (
        2025,
        VALID.replace("realise: 2025-09", "realise: 2025-02-30"),
        "ligne 5, clé « actions > action 1 > jalons > 1 > realise », valeur « 2025-02-30 » : "
        "date invalide",
    ),
    "realise_avant_prevu": (
        2025,
        VALID.replace("realise: 2025-09", "realise: 2025-05-31"),
        "2025.yaml, ligne 5, clé « actions > action 1 > jalons > 1 > realise », "
        "valeur « 2025-05-31 » : réalisé avant la date prévue (2025-06)",
    ),
    "action_en_double": (
        2025,
        VALID + "  - numero: 1\n    etat: realisee\n",
        "2025.yaml, ligne 6, clé « actions > action 1 > numero », valeur « 1 » : "
        "action déjà renseignée plus haut (ligne 2)",
    ),
    "hors_periode_de_l_action": (
        2022,
        "actions:\n  - numero: 1\n    etat: en_cours\n  - numero: 3\n    etat: a_engager\n",
        "2022.yaml, ligne 4, clé « actions > action 3 > numero », valeur « 3 » : "
        "année 2022 hors de la période de l'action 3 (2023-2026)",
    ),
    "jalon_en_double": (
        2025,
        VALID + '      - {libelle: "Guide diffusé", prevu: 2025-12}\n',
        "2025.yaml, ligne 6, clé « actions > action 1 > jalons > 2 > libelle », "
        "valeur « Guide diffusé » : jalon déjà listé pour cette action (ligne 5)",
    ),
    "cle_inconnue": (
        2025,
        VALID.replace("    etat: en_cours\n", "    etat: en_cours\n    commentaire: oui\n"),
        "2025.yaml, ligne 4, clé « actions > action 1 > commentaire » : clé inconnue "
        "(clés possibles : numero, etat, realisations, jalons, partenaires, difficultes, suite)",
    ),
    "cle_de_jalon_inconnue": (
        2025,
        VALID.replace("realise: 2025-09", "fait: 2025-09"),
        "2025.yaml, ligne 5, clé « actions > action 1 > jalons > 1 > fait » : clé inconnue",
    ),
    "cle_en_tete_inconnue": (
        2025,
        "action:\n  - numero: 1\n    etat: en_cours\n",
        "2025.yaml, ligne 1, clé « action » : clé inconnue (clés possibles : actions)",
    ),
    "etat_manquant": (
        2025,
        "actions:\n  - numero: 1\n    jalons: []\n",
        "2025.yaml, ligne 2, clé « actions > action 1 > etat » : clé obligatoire manquante",
    ),
    "yaml_invalide": (
        2025,
        "actions:\n  - numero: 1\n   etat: en_cours\n",
        "2025.yaml, ligne 3 : YAML invalide",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_wrong_file_is_reported_with_file_line_key_and_value(parametres, config, case):
    annee, text, expected = BROKEN[case]
    _write(parametres, annee, text)
    with pytest.raises(ValidationError) as caught:
        suivi.load_follow_up(annee, config=config)
    assert caught.value.exit_code == EXIT_INVALID  # the CLI exits 1, without a traceback
    report = caught.value.report()
    assert "dans les paramètres" in report
    assert expected in report, report


def test_every_wrong_file_is_reported_at_once(parametres, config):
    _write(parametres, 2023, BROKEN["etat_inconnu"][1])
    _write(parametres, 2025, BROKEN["action_inconnue"][1])
    with pytest.raises(ValidationError) as caught:
        suivi.load_all(2025, config=config)
    report = caught.value.report()
    assert "2 erreurs" in report
    assert "2023.yaml, ligne 3" in report and "2025.yaml, ligne 2" in report


def test_both_ways_yaml_reads_a_date_are_accepted(parametres, config):
    _write(
        parametres,
        2025,
        VALID.replace("prevu: 2025-06, realise: 2025-09", "prevu: 2025-06-15, realise: 2025-06"),
    )
    (milestone,) = suivi.load_follow_up(2025, config=config).get(1).jalons
    assert milestone.prevu == PartialDate(2025, 6, 15)  # YAML: a date
    assert milestone.realise == PartialDate(2025, 6)  # YAML: a text
    assert str(milestone.prevu) == "2025-06-15" and str(milestone.realise) == "2025-06"


def test_an_action_not_listed_is_not_filled_in(parametres, config):
    _write(parametres, 2025, VALID)
    year = suivi.load_follow_up(2025, config=config)
    assert year.state(1) == "en_cours"
    assert year.state(3) == suivi.NOT_FILLED
    assert suivi.STATE_LABELS[year.state(3)] == "non renseignée"
    (parametres / "suivi" / "2025.yaml").unlink()
    missing = suivi.load_follow_up(2025, config=config)
    assert missing.fichier is None and missing.state(1) == suivi.NOT_FILLED


def test_a_year_outside_the_schema_is_a_usage_error(config):
    with pytest.raises(UsageError, match="hors de la période du schéma"):
        suivi.load_follow_up(2027, config=config)


# --- « en retard » and « échéance atteinte » ---------------------------------------------


def test_a_milestone_is_late_once_its_planned_date_is_over_and_it_is_not_done():
    december = Milestone("Journée départementale", PartialDate(2025, 12))
    assert december.late(2025)  # the report of 2025: the situation at the end of 2025
    assert not december.late(2024)
    assert not december.late(dt.date(2025, 12, 15))  # a month is over at its end
    assert december.late(dt.date(2026, 1, 1))
    assert december.status(2025) == "en retard (prévu décembre 2025)"
    assert december.status(2024) == "prévu (décembre 2025)"
    done = Milestone("Guide diffusé", PartialDate(2025, 6), realise=PartialDate(2025, 9, 2))
    assert not done.late(2026)
    assert done.status(2026) == "réalisé (2 septembre 2025)"
    next_year = Milestone("Mise à jour du guide", PartialDate(2026, 1, 10))
    assert not next_year.late(2025)


ACTION = Action(3, "Faire reconnaître le projet social", 2023, 2026)


@pytest.mark.parametrize(
    ("etat", "annee", "reached"),
    [
        ("en_cours", 2026, True),
        ("reportee", 2026, True),
        (suivi.NOT_FILLED, 2026, True),
        ("realisee", 2026, False),
        ("en_cours", 2025, False),
    ],
)
def test_the_deadline_is_reached_in_the_last_year_unless_done(etat, annee, reached):
    assert suivi.deadline_reached(ACTION, etat, annee) is reached


def test_late_milestones_and_deadline_from_the_files(parametres, config):
    _write(
        parametres,
        2026,
        """\
actions:
  - numero: 1
    etat: realisee
    jalons:
      - {libelle: "Mise à jour du guide", prevu: 2026-03, realise: 2026-04}
  - numero: 2
    etat: en_cours
    jalons:
      - {libelle: "Diagnostic de l'observatoire", prevu: 2025-10}
      - {libelle: "Bilan des instances", prevu: 2026-12}
""",
    )
    history = suivi.load_all(2026, config=config)
    table = suivi.table(history, config, 2026).set_index(["annee", "action"])
    counts = ["jalons_prevus", "jalons_realises", "jalons_en_retard"]
    assert table.loc[(2026, 1), counts].tolist() == [1, 1, 0]
    assert table.loc[(2026, 2), "jalons_en_retard"] == 2
    assert table.loc[(2026, 3), "etat"] == suivi.NOT_FILLED
    text = suivi.describe(history, config, 2026)
    expected = [
        "Action 1 (communication, 2022-2026) : en cours de 2022 à 2025 et réalisée en 2026.",
        "Action 2 (coordination, 2022-2026) : en cours de 2022 à 2026 ; échéance atteinte en 2026",
        "« Bilan des instances » prévu en décembre 2026, en retard",
        "non renseignée en 2026 ; échéance atteinte en 2026 sans être réalisée",
    ]
    for sentence in expected:
        assert sentence in text, text


def test_the_milestones_table_of_a_report(config):
    history = suivi.load_all(2025, config=config)
    table = suivi.milestones_table(history[2025].get(2), 2025)
    assert table.to_dict("records") == [
        {
            "Jalon": "Contribution des structures au diagnostic de l'observatoire social",
            "Prévu": "octobre 2025",
            "Réalisé": "",
            "Situation": "en retard (prévu octobre 2025)",
        }
    ]
    done = suivi.milestones_table(history[2025].get(1), 2025).iloc[0]
    assert (done["Réalisé"], done["Situation"]) == (
        "18 novembre 2025",
        "réalisé (18 novembre 2025)",
    )
    assert list(suivi.milestones_table(None, 2025).columns) == [
        "Jalon",
        "Prévu",
        "Réalisé",
        "Situation",
    ]


# --- the published table ---------------------------------------------------------------


def test_rows_have_the_published_columns_one_per_year_and_open_action(config):
    table = suivi.rows(2025, config=config)
    assert list(table.columns) == [
        "annee", "action", "intitule", "debut", "fin", "etat", "realisations",
        "jalons_prevus", "jalons_realises", "jalons_en_retard",
    ]  # fmt: skip
    assert len(table) == 2 + 4 * 3  # actions 3 and 4 start in 2023
    for name in ("annee", "action", "debut", "fin", "jalons_prevus", "jalons_realises"):
        assert str(table[name].dtype) == "int64", name
    assert str(table["jalons_en_retard"].dtype) == "int64"
    first = table.iloc[0]
    assert (first["annee"], first["action"], first["debut"], first["fin"]) == (2022, 1, 2022, 2026)
    assert first["intitule"] == "Communiquer sur le projet social"
    assert " ; " in first["realisations"]
    csv = table.to_csv(index=False)  # counts as integers, not 1.0
    assert ",2,1,0\n" in csv


def test_rows_up_to_an_earlier_year_and_a_year_without_file(parametres, config):
    (parametres / "suivi" / "2024.yaml").unlink()
    table = suivi.rows(2024, config=config)
    assert sorted(table["annee"].unique()) == [2022, 2023, 2024]
    assert set(table.loc[table["annee"] == 2024, "etat"]) == {suivi.NOT_FILLED}
    assert (table.loc[table["annee"] == 2024, "jalons_prevus"] == 0).all()


def test_the_files_a_report_depends_on(parametres):
    found = suivi.files(2024)
    assert [p.name for p in found] == ["2022.yaml", "2023.yaml", "2024.yaml"]


# --- the year's template ---------------------------------------------------------------


def test_the_template_carries_over_the_state_and_the_milestones_not_done(parametres, config):
    outcome = suivi.write_template(2026, config=config)
    assert outcome.created and outcome.path == parametres / "suivi" / "2026.yaml"
    assert "créé" in outcome.message and "repris de 2025" in outcome.message
    text = outcome.path.read_text(encoding="utf-8")
    assert "# Suivi des actions de la fiche PA 3.1.2 : année 2026." in text
    assert "#   etat         : a_engager | en_cours | realisee | reportee | abandonnee" in text
    assert "# suite prévue en 2025 : Ouvrir le fonds d'appui à la trésorerie en 2026." in text
    year = suivi.load_follow_up(2026, config=config)  # the template is a valid file
    assert sorted(year.actions) == [1, 2, 3, 4]
    assert {n: a.etat for n, a in year.actions.items()} == {n: "en_cours" for n in (1, 2, 3, 4)}
    carried = {n: [(m.libelle, str(m.prevu)) for m in a.jalons] for n, a in year.actions.items()}
    assert carried == {
        1: [("Mise à jour du guide après la journée départementale", "2026-03")],
        2: [("Contribution des structures au diagnostic de l'observatoire social", "2025-10")],
        3: [],
        4: [],
    }
    assert all(not m.done for a in year.actions.values() for m in a.jalons)


def test_the_template_of_a_year_when_actions_start(parametres, config):
    (parametres / "suivi" / "2023.yaml").unlink()
    suivi.write_template(2023, config=config)
    year = suivi.load_follow_up(2023, config=config)
    assert {n: a.etat for n, a in year.actions.items()} == {
        1: "en_cours",
        2: "en_cours",
        3: "a_engager",  # starts in 2023
        4: "a_engager",
    }
    assert [m.libelle for m in year.get(1).jalons] == [
        "Guide « Faire connaître son projet social » diffusé"
    ]
    text = (parametres / "suivi" / "2023.yaml").read_text(encoding="utf-8")
    assert "etat: a_engager  # l'action démarre en 2023" in text


def test_the_first_year_template_has_no_previous_year(parametres, config):
    for path in (parametres / "suivi").glob("*.yaml"):
        path.unlink()
    outcome = suivi.write_template(2022, config=config)
    assert "repris" not in outcome.message
    year = suivi.load_follow_up(2022, config=config)
    assert sorted(year.actions) == [1, 2]
    assert all(a.etat == "a_engager" and not a.jalons for a in year.actions.values())


def test_the_template_never_overwrites_a_file(parametres, config):
    path = parametres / "suivi" / "2025.yaml"
    before = path.read_bytes()
    outcome = suivi.write_template(2025, config=config)
    assert not outcome.created
    assert "existe déjà" in outcome.message and "rien n'est écrasé" in outcome.message
    assert path.read_bytes() == before


def test_a_wrong_previous_year_stops_the_template_before_writing(parametres, config):
    _write(parametres, 2025, BROKEN["etat_inconnu"][1])
    with pytest.raises(ValidationError, match="1 erreur"):
        suivi.write_template(2026, config=config)
    assert not (parametres / "suivi" / "2026.yaml").exists()
    assert not list((parametres / "suivi").glob(".*.tmp"))


def test_the_template_keeps_quotes_and_accents_of_labels(parametres, config):
    label = 'Kit « Dire ce qu\'on fait » : "version 2"'
    data = {"actions": [{"numero": 1, "etat": "reportee", "jalons": [
        {"libelle": label, "prevu": "2025-06"}]}]}  # fmt: skip
    _write(parametres, 2025, yaml.safe_dump(data, allow_unicode=True))
    suivi.write_template(2026, config=config)
    year = suivi.load_follow_up(2026, config=config)
    assert year.get(1).etat == "reportee"
    assert year.get(1).jalons == (Milestone(label, PartialDate(2025, 6)),)
    assert year.state(2) == "a_engager"  # not filled in 2025: to be checked
    text = (parametres / "suivi" / "2026.yaml").read_text(encoding="utf-8")
    assert "# état non renseigné en 2025, à vérifier" in text


def test_the_default_year_stays_in_the_schema(config):
    assert suivi.default_year(config, dt.date(2025, 3, 1)) == 2025
    assert suivi.default_year(config, dt.date(2030, 1, 1)) == 2026
    assert suivi.default_year(config, dt.date(2020, 1, 1)) == 2022


# --- the timeline ----------------------------------------------------------------------


def _history() -> dict[int, YearFollowUp]:
    """Hand-written: action 1 done in 2024, action 2 dropped, 3 postponed then missing."""
    guide = Milestone("Guide diffusé", PartialDate(2023, 6), PartialDate(2023, 9, 12))
    day = Milestone("Journée départementale", PartialDate(2024, 11))
    return {
        2022: YearFollowUp(2022, {1: ActionFollowUp(1, "a_engager")}),
        2023: YearFollowUp(
            2023,
            {
                1: ActionFollowUp(1, "en_cours", jalons=(guide,)),
                2: ActionFollowUp(2, "en_cours"),
                3: ActionFollowUp(3, "reportee", jalons=(day,)),
            },
        ),
        2024: YearFollowUp(
            2024,
            {1: ActionFollowUp(1, "realisee"), 2: ActionFollowUp(2, "abandonnee")},
        ),
    }


def test_the_timeline_says_it_all_in_its_alt_text(config):
    from avs_eval import figures
    from avs_eval.suivi_frise import timeline

    figure = timeline(_history(), config, 2024)
    text = figure.alt_text
    assert text.startswith(
        "Frise de mise en œuvre des actions du schéma, 2022-2026, situation à fin 2024. "
    )
    assert (
        "Action 1 (communication, 2022-2026) : à engager en 2022, en cours en 2023 et "
        "réalisée en 2024. Jalons : « Guide diffusé » prévu en juin 2023, réalisé le "
        "12 septembre 2023." in text
    )
    assert "Action 2 (coordination, 2022-2026) : non renseignée en 2022, en cours en 2023 et " \
        "abandonnée en 2024." in text  # fmt: skip
    assert (
        "Action 3 (reconnaissance du projet social, 2023-2026) : reportée en 2023 et non "
        "renseignée en 2024. Jalons : « Journée départementale » prévu en novembre 2024, "
        "en retard." in text
    )
    assert "Action 4 (gouvernance, 2023-2026) : non renseignée en 2023 et 2024." in text
    assert "échéance" not in text  # 2024 is no action's last year
    legend = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert legend[:6] == [
        "à engager", "en cours", "réalisée", "reportée", "abandonnée", "non renseignée",
    ]  # fmt: skip
    assert "à venir" in legend and "jalon en retard fin 2024" in legend
    assert figures.png(figure).startswith(b"\x89PNG")


def test_the_timeline_of_an_action_not_started_yet(config):
    from avs_eval.suivi_frise import timeline

    history = {2022: _history()[2022]}
    text = timeline(history, config, 2022).alt_text
    assert "Action 3 (reconnaissance du projet social, 2023-2026) : démarre en 2023." in text
