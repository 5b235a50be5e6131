"""The labels file, the sample's export and import, and the checks on a person's marks (plain inputs)."""

import json

import datasets
import pytest

from hf_llmgen.interventions.labelling import (
    LabelsFile, Mark, check_mark, export_sample, human_labels, labels_path, read_import, sample_rows, scope_marks,
)

NAMES = ["negative", "positive"]


@pytest.fixture
def data():
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=NAMES)})
    return datasets.Dataset.from_dict({"text": ["bad", "good", "fine", "weather"], "label": [0, 1, 1, 0]}, features)


def test_the_latest_mark_of_a_row_wins_and_an_empty_mark_clears(tmp_path):
    labels = LabelsFile(str(tmp_path / "sub" / "human_labels.jsonl"))
    assert labels.read() == {}
    labels.add(Mark(0, "bad", "positive"))
    labels.add(Mark(0, "bad", "negative"))
    labels.add(Mark(3, "weather", out_of_scope=True))
    labels.add(Mark(1, "good", "positive"))
    labels.add(Mark(1, "good"))
    assert labels.read() == {0: Mark(0, "bad", "negative"), 3: Mark(3, "weather", None, True)}
    assert human_labels(labels.read().values()) == (["bad"], ["negative"])
    assert scope_marks(labels.read().values()) == (["bad", "weather"], [True, False])


def test_a_line_cut_short_by_a_crash_is_skipped_but_a_broken_line_inside_is_an_error(tmp_path):
    path = tmp_path / "human_labels.jsonl"
    labels = LabelsFile(str(path))
    labels.add(Mark(0, "bad", "negative"))
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"row": 1, "text": "go')
    assert labels.read() == {0: Mark(0, "bad", "negative")}
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n" + json.dumps({"row": 2, "text": "fine", "label": "positive"}) + "\n")
    with pytest.raises(ValueError, match="line 2: not a mark"):
        labels.read()


def test_marks_are_checked_against_the_dataset(data):
    check_mark(Mark(1, "good", "positive"), data, NAMES)
    with pytest.raises(ValueError, match="not a row of the dataset"):
        check_mark(Mark(9, "good", "positive"), data, NAMES)
    with pytest.raises(ValueError, match="its text differs"):
        check_mark(Mark(1, "great", "positive"), data, NAMES)
    with pytest.raises(ValueError, match="'neutral' is not one of"):
        check_mark(Mark(1, "good", "neutral"), data, NAMES)
    with pytest.raises(ValueError, match="not both"):
        check_mark(Mark(1, "good", "positive", out_of_scope=True), data, NAMES)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_export_then_import_gives_back_what_a_person_filled_in(data, tmp_path, suffix):
    path = str(tmp_path / f"sample{suffix}")
    export_sample(path, data, [3, 0, 1], {0: Mark(0, "bad", "negative")})
    assert read_import(path) == [Mark(0, "bad", "negative")]
    if suffix == ".csv":
        text = open(path, encoding="utf-8").read().splitlines()
        assert text[0] == "row,text,label,human_label,out_of_scope"
        assert text[1] == "3,weather,negative,,"
        filled = text[:1] + ["3,weather,negative,,yes", "0,bad,negative,negative,", "1,good,positive,,"]
        open(path, "w", encoding="utf-8").write("\n".join(filled) + "\n")
    else:
        records = [json.loads(line) for line in open(path, encoding="utf-8")]
        assert records[0] == {"row": 3, "text": "weather", "label": "negative", "human_label": None,
                              "out_of_scope": False}
        records[0]["out_of_scope"] = True
        open(path, "w", encoding="utf-8").write("".join(json.dumps(r) + "\n" for r in records))
    assert read_import(path) == [Mark(3, "weather", None, True), Mark(0, "bad", "negative")]


def test_export_and_import_name_what_is_wrong(data, tmp_path):
    with pytest.raises(ValueError, match="must end in .csv or .jsonl"):
        export_sample(str(tmp_path / "s.xlsx"), data, [0], {})
    bad = tmp_path / "bad.csv"
    bad.write_text("text,human_label\nbad,negative\n")
    with pytest.raises(ValueError, match=r"record 1: lacks \['row'\]"):
        read_import(str(bad))


def test_labels_live_beside_the_dataset(tmp_path):
    assert labels_path(str(tmp_path)) == str(tmp_path / "human_labels.jsonl")
    assert labels_path("data/x.jsonl") == "data/x.jsonl.human_labels.jsonl"


def test_sample_rows_refuses_an_empty_dataset_and_a_missing_text_column(data):
    with pytest.raises(ValueError, match="no rows to label"):
        sample_rows(data.select([]), 2, strategy="random")
    with pytest.raises(ValueError, match="has no column 'body'"):
        sample_rows(data, 2, strategy="random", text_column="body")
    assert sorted(sample_rows(data, 4, strategy="random")) == [0, 1, 2, 3]
