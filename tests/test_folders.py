"""The output folder's splits: rows removed by an earlier step stay beside the ones a later step removes."""

import datasets

from hf_llmgen.folders import with_earlier_removed

FEATURES = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["a", "b"])})


def test_earlier_removed_rows_come_first_with_the_new_columns_empty(tmp_path):
    datasets.Dataset.from_dict({"text": ["off label"], "label": [1]}, features=FEATURES).save_to_disk(
        str(tmp_path / "removed"))
    features = datasets.Features({**FEATURES, "scope_score": datasets.Value("float64")})
    new = datasets.Dataset.from_dict({"text": ["out of scope"], "label": [0], "scope_score": [0.1]}, features=features)
    joined = with_earlier_removed(new, str(tmp_path))
    assert joined.to_dict() == {"text": ["off label", "out of scope"], "label": [1, 0], "scope_score": [None, 0.1]}
    assert joined.features == features


def test_without_an_earlier_removed_split_the_new_one_is_kept_as_it_is(tmp_path):
    new = datasets.Dataset.from_dict({"text": ["x"], "label": [0]}, features=FEATURES)
    assert with_earlier_removed(new, str(tmp_path)) is new
    assert with_earlier_removed(new, str(tmp_path / "data.jsonl")) is new  # a file, not a folder
