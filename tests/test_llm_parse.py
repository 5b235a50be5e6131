"""Reading a label out of an LLM's answer (plain strings)."""

import pytest

from hf_llmgen.generation.parse import parse_choice

EMOTIONS = ["sadness", "joy", "love", "anger", "fear", "surprise"]


@pytest.mark.parametrize("answer, expected", [
    ("joy", "joy"), ("Joy.", "joy"), ("**Surprise**", "surprise"), ("The label is: fear", "fear"),
    ("Label: sadness (sad)", "sadness"), ("love, or maybe anger", "love"), ("sad", None), ("none of them", None),
    ("", None), ("enjoyment", None),
])
def test_the_label_named_first_is_taken_and_partial_words_are_not(answer, expected):
    assert parse_choice(answer, EMOTIONS) == expected


def test_underscores_slashes_and_longer_names_at_the_same_place():
    assert parse_choice("Card arrival.", ["card_arrival", "card_linking"]) == "card_arrival"
    assert parse_choice("sci/tech", ["World", "Sci/Tech"]) == "Sci/Tech"
    assert parse_choice("card payment fee charged", ["card payment", "card payment fee charged"]) == (
        "card payment fee charged")
    assert parse_choice("No, it does not.", ("yes", "no")) == "no"
