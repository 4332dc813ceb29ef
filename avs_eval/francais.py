"""The little French grammar the generated sentences need: elision, lists, capitals.

A sentence built from data (« La plupart des chiffres de Est lyonnais… », « 2 structure(s)
agréée(s) ») reads as machine output, and a committee stops trusting the figures around
it. Every sentence of the reports goes through these few helpers, so that each rule is
written once: « d'Est lyonnais », « l'émission », « a, b et c »; a count and its noun
« 2 structures agréées » are `formatting.counted`'s (error messages and the journal need
them too, below this layer).

The rules are the ones a careful editor applies, kept small: elision before a vowel or
a mute h (with the usual words whose h is aspirated), a label lowered inside a sentence
unless it starts with an acronym (« CPAM », « QPV »).
"""

from __future__ import annotations

import unicodedata

# Words whose h is aspirated: no elision (« le hameau », « de Haute-Rivière »).
H_ASPIRE = frozenset(
    {
        "hall",
        "hameau",
        "handicap",
        "handicapé",
        "handicapés",
        "handicapée",
        "handicapées",
        "hausse",
        "hausses",
        "haut",
        "haute",
        "hauts",
        "hautes",
        "hauteur",
        "hangar",
        "hasard",
        "hiérarchie",
        "honte",
        "hors",
        "huit",
        "haie",
    }
)
VOWELS = frozenset("aeiouy")


def _bare(letter: str) -> str:
    """A letter without its accent, lower case: « É » → « e »."""
    return unicodedata.normalize("NFD", letter)[:1].lower()


def starts_with_vowel_sound(word: str) -> bool:
    """Whether « de », « le », « la », « que » elide before `word`.

    A vowel (accented or not, « y » included: « l'Yonne ») or a mute h (« l'habitat »,
    but « le hameau »).
    """
    text = word.strip()
    if not text:
        return False
    first = _bare(text[0])
    if first in VOWELS:
        return True
    if first == "h":
        head = text.split()[0].split("-")[0].lower().strip("«» ")
        return head not in H_ASPIRE
    return False


def de(word: str) -> str:
    """« de Lyon », « d'Est lyonnais », « d'Oullins »: the preposition, elided if it must."""
    return f"d'{word}" if starts_with_vowel_sound(word) else f"de {word}"


def le(word: str, feminine: bool = False) -> str:
    """« le territoire », « la collectivité », « l'émission »: the article, elided if it must."""
    if starts_with_vowel_sound(word):
        return f"l'{word}"
    return f"{'la' if feminine else 'le'} {word}"


def que(word: str) -> str:
    """« que la cible », « qu'en 2023 »."""
    return f"qu'{word}" if starts_with_vowel_sound(word) else f"que {word}"


_WORDS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix")


def in_words(count: int, feminine: bool = False) -> str:
    """A small count in letters, as French prose writes it (« quatre cibles sur cinq »);
    from 11 on, in digits."""
    if not 0 <= count < len(_WORDS):
        return str(count)
    return "une" if count == 1 and feminine else _WORDS[count]


def join(items: list[str], last: str = "et") -> str:
    """« a », « a et b », « a, b et c »: a French list, without the Oxford comma."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def lower_first(label: str) -> str:
    """A label inside a sentence: « Permanence d'un partenaire » → « permanence d'un
    partenaire », but « CPAM », « QPV » and other acronyms are kept."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def capitalised(text: str) -> str:
    """The text with a capital first letter, the rest untouched (start of a sentence)."""
    return text[:1].upper() + text[1:]
