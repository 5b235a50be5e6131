import re

import pytest

from hf_llmgen.task import TaskSpecError, load_task, parse_task, preset_names

VALID = {
    "text_type": "movie review",
    "labels": [
        {"name": "negative", "description": "negative sentiment"},
        {"name": "positive", "description": "positive sentiment"},
    ],
}

PAPER_TASKS = {"sst2", "emotion", "trec", "ag_news", "sms_spam", "banking77"}
OTHER_TASKS = {"clickbait", "pubmed_rct", "subj", "formality", "hwu64", "cola"}


def test_every_preset_loads_and_round_trips():
    assert PAPER_TASKS | OTHER_TASKS <= set(preset_names())
    for name in preset_names():
        task = load_task(name)
        assert task.name == name and len(task.labels) >= 2
        assert parse_task(task.to_dict()) == task


def test_preset_labels_follow_the_real_data_order():
    assert load_task("emotion").label_names == ["sadness", "joy", "love", "anger", "fear", "surprise"]
    assert load_task("ag_news").label_names == ["World", "Sports", "Business", "Sci/Tech"]
    assert len(load_task("banking77").labels) == 77


def test_yaml_path_and_dict_load(tmp_path):
    path = tmp_path / "reviews.yaml"
    path.write_text("text_type: movie review\nlabels: [{name: bad, description: b}, {name: good, description: g}]\n")
    assert load_task(str(path)).name == "reviews"
    assert load_task(VALID).label_names == ["negative", "positive"]


def test_label_shares_round_trip_and_equal_shares_stay_out_of_the_spec():
    shared = parse_task({**VALID, "labels": [{**VALID["labels"][0], "share": 3}, {**VALID["labels"][1], "share": 1}]})
    assert shared.label_shares == (3.0, 1.0) and parse_task(shared.to_dict()) == shared
    assert load_task(VALID).label_shares == () and "share" not in str(load_task(VALID).to_dict())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"labels": []}, "task.labels"),
        ({"labels": [{"name": "a", "description": "x"}]}, "at least two labels"),
        (
            {"labels": [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]},
            "duplicate label name 'a'",
        ),
        ({"labels": [{"name": "a"}, {"name": "b", "description": "y"}]}, "task.labels[0].description"),
        ({"text_type": " "}, "task.text_type"),
        ({"colour": "red"}, "unknown field(s) ['colour']"),
        ({"examples": [{"text": "hi there you", "label": "neutral"}]}, "task.examples[0].label"),
        ({"labels": [{"name": "a", "description": "x", "phrase": "p"}, {"name": "b", "description": "y"}]},
         "task.labels[0]: unknown field(s) ['phrase']"),
        ({"labels": [{"name": "a", "description": "x", "share": 0}, {"name": "b", "description": "y"}]},
         "task.labels[0].share: give a number > 0"),
        ({"labels": [{"name": "a", "description": "x", "share": 3}, {"name": "b", "description": "y"}]},
         "['b'] have no share"),
        ({"labels": [{"name": "a", "description": "x", "share": 3}, {"name": "b", "description": "y", "share": 1},
                     {"name": "c", "description": "z", "share": 1}], "multi_label": True},
         "label shares are for single-label tasks"),
    ],
)
def test_bad_specs_name_the_field(change, message):
    with pytest.raises(TaskSpecError, match=re.escape(message)):
        parse_task({**VALID, **change})


def test_unknown_preset_lists_the_presets():
    with pytest.raises(TaskSpecError, match="sst2"):
        load_task("no_such_task")


def test_invalid_yaml_is_reported(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("labels: [unclosed\n")
    with pytest.raises(TaskSpecError, match="not valid YAML"):
        load_task(str(path))
