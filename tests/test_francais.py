"""The French of generated sentences: elision, plurals, lists, labels inside a sentence."""

from __future__ import annotations

import pytest

from avs_eval import francais


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Est lyonnais", "d'Est lyonnais"),
        ("Oullins", "d'Oullins"),
        ("Écully", "d'Écully"),
        ("habitat", "d'habitat"),
        ("Lyon", "de Lyon"),
        ("Val de Saône", "de Val de Saône"),
        ("hausse", "de hausse"),  # aspirated h: no elision
        ("Haute-Rivoire", "de Haute-Rivoire"),
    ],
)
def test_de_elides_before_a_vowel_or_a_mute_h(word, expected):
    assert francais.de(word) == expected


def test_le_and_la_elide():
    assert francais.le("émission") == "l'émission"
    assert francais.le("territoire") == "le territoire"
    assert francais.le("collectivité", feminine=True) == "la collectivité"
    assert francais.le("hameau") == "le hameau"
    assert francais.que("en 2023") == "qu'en 2023"


def test_small_counts_in_letters():
    assert francais.in_words(4, feminine=True) == "quatre"
    assert francais.in_words(1, feminine=True) == "une"
    assert francais.in_words(1) == "un"
    assert francais.in_words(12) == "12"


def test_join_is_a_french_list():
    assert francais.join([]) == ""
    assert francais.join(["a"]) == "a"
    assert francais.join(["a", "b"]) == "a et b"
    assert francais.join(["a", "b", "c"]) == "a, b et c"
    assert francais.join(["a", "b"], "ou") == "a ou b"


def test_labels_are_lowered_inside_a_sentence_but_acronyms_kept():
    assert francais.lower_first("Permanence d'un partenaire") == "permanence d'un partenaire"
    assert francais.lower_first("CPAM") == "CPAM"
    assert francais.lower_first("QPV et hors QPV") == "QPV et hors QPV"
    assert francais.capitalised("aucune évolution") == "Aucune évolution"
