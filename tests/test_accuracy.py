"""Label agreement, oracle label mapping and metric flattening, on plain inputs."""

import pytest

from hf_llmgen.metrics.accuracy import agreement, oracle_label_map
from hf_llmgen.metrics.report import flatten


def test_agreement_overall_per_class_and_confusions():
    labels = ["pos", "pos", "pos", "neg", "neg"]
    predictions = ["pos", "neg", "pos", "neg", "pos"]
    result = agreement(labels, predictions)
    assert result.accuracy == pytest.approx(3 / 5)
    assert result.per_class == pytest.approx({"pos": 2 / 3, "neg": 1 / 2})
    assert result.confusions == {"pos": {"neg": 1}, "neg": {"pos": 1}}


def test_agreement_rejects_mismatched_or_empty_inputs():
    with pytest.raises(ValueError, match="differ in length: 2 vs 1"):
        agreement(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no rows"):
        agreement([], [])


def test_oracle_labels_match_by_name_ignoring_case():
    assert oracle_label_map(["NEGATIVE", "POSITIVE"], ["negative", "positive"]) == {
        "NEGATIVE": "negative",
        "POSITIVE": "positive",
    }


def test_generic_oracle_labels_map_by_index():
    assert oracle_label_map(["LABEL_0", "LABEL_1"], ["negative", "positive"]) == {
        "LABEL_0": "negative",
        "LABEL_1": "positive",
    }


def test_label_map_wins_and_unmapped_labels_stay_as_they_are():
    mapping = oracle_label_map(["NEG", "POS", "neutral"], ["negative", "positive"], {"NEG": "negative", "POS": "positive"})
    assert mapping == {"NEG": "negative", "POS": "positive", "neutral": "neutral"}


def test_unmatched_oracle_labels_name_the_fix():
    with pytest.raises(ValueError, match=r"oracle: its labels \['joy', 'anger'\] do not match .* pass label_map="):
        oracle_label_map(["joy", "anger"], ["negative", "positive"])
    with pytest.raises(ValueError, match=r"label_map: \['good'\] are not dataset labels"):
        oracle_label_map(["POS"], ["negative", "positive"], {"POS": "good"})


def test_flatten_joins_nested_keys():
    nested = {"rows": 3, "per_class": {"a": 0.5, "b": {"c": 1.0}}}
    assert flatten(nested, "data/") == {"data/rows": 3, "data/per_class/a": 0.5, "data/per_class/b/c": 1.0}
