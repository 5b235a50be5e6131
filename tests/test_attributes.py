"""Attributes in the task spec, balanced configurations and the attributed prompt, on plain inputs."""

from collections import Counter

import pytest

from hf_llmgen.generation.attributes import AttributeSampler
from hf_llmgen.generation.prompts import build_messages, uses_attributes
from hf_llmgen.generation.suggest import parse_list
from hf_llmgen.task import TaskSpecError, load_task, parse_task

LABELS = [
    {"name": "tech", "description": "technology news", "similar": ["business"]},
    {"name": "business", "description": "business news"},
]


def _task(attributes, labels=LABELS):
    return parse_task({"text_type": "news article", "labels": labels, "attributes": attributes})


def test_values_fitting_a_similar_label_are_left_out_and_the_spec_round_trips():
    task = _task([
        {"name": "length", "values": ["short", "long"], "weights": [3, 1]},
        {"name": "subtopic", "per_class": {"tech": ["chips", "start-ups", "Mergers"], "business": ["mergers"]}},
    ])
    assert task.attribute_values(task.attributes[1], "tech") == (("chips", "start-ups"), ())
    assert task.attribute_values(task.attributes[1], "business") == (("mergers",), ())
    assert task.attribute_values(task.attributes[0], "tech") == (("short", "long"), (3.0, 1.0))
    assert parse_task(task.to_dict()) == task


def test_draws_are_balanced_to_the_weights_and_repeatable():
    task = _task([
        {"name": "length", "values": ["short", "medium", "long"], "weights": [2, 1, 1]},
        {"name": "subtopic", "per_class": {"tech": ["chips", "phones", "apps"], "business": ["banks", "oil"]}},
    ])
    sampler = AttributeSampler(task, seed=7)
    draws = [sampler.sample("tech") for _ in range(41)]
    lengths, subtopics = Counter(d["length"] for d in draws), Counter(d["subtopic"] for d in draws)
    assert abs(lengths["short"] - 41 / 2) <= 1 and abs(lengths["medium"] - 41 / 4) <= 1
    assert max(subtopics.values()) - min(subtopics.values()) <= 1 and set(subtopics) == {"chips", "phones", "apps"}
    assert len({(d["length"], d["subtopic"]) for d in draws}) >= 8  # the attributes combine freely
    again = AttributeSampler(task, seed=7)
    assert [again.sample("tech") for _ in range(41)] == draws
    assert {AttributeSampler(task, seed=7).sample("business")["subtopic"] for _ in range(3)} <= {"banks", "oil"}


def test_the_attributed_prompt_names_the_label_the_values_and_what_to_avoid():
    task = _task([{"name": "writing_style", "values": ["formal"]}])
    (message,) = build_messages(task, "attributes", "tech", [], 1, {"writing_style": "formal"})
    content = message["content"]
    assert "label is 'tech' (technology news)" in content and "- writing style: formal" in content
    assert "must not be about business news." in content and content.endswith("Reply with the news article only.")


def test_the_direct_prompt_states_one_value_of_each_attribute_where_the_task_has_them():
    task = load_task("sst2")
    configuration = {"length": "one sentence", "aspect": "the pacing", "genre": "horror film", "style": "measured"}
    [message] = build_messages(task, "direct", "negative", [], 1, configuration)
    assert message["content"].splitlines()[:2] == [
        "Write one short movie review about films: the critic dislikes the film.",
        "Length: one sentence. Aspect: the pacing. Genre: horror film. Style: measured.",
    ]
    assert uses_attributes("direct", task) and uses_attributes("attributes", task)
    assert not uses_attributes("direct", load_task("subj")) and not uses_attributes("simple", task)



@pytest.mark.parametrize("attributes, labels, error", [
    ([{"name": "a", "values": ["x"], "per_class": {"tech": ["y"]}}], LABELS, "either values .* or per_class"),
    ([{"name": "a"}], LABELS, "either values"),
    ([{"name": "a", "per_class": {"tech": ["y"]}}], LABELS, r"missing \['business'\], unknown \[\]"),
    ([{"name": "a", "per_class": {"tech": ["y"], "business": ["z"], "sport": ["w"]}}], LABELS, r"unknown \['sport'\]"),
    ([{"name": "a", "values": ["x", "y"], "weights": [1]}], LABELS, "one number > 0 per value"),
    ([{"name": "a", "values": ["x"], "weights": [0]}], LABELS, "one number > 0 per value"),
    ([{"name": "a", "values": ["x"]}, {"name": "a", "values": ["y"]}], LABELS, "duplicate attribute 'a'"),
    ([{"name": "a", "values": "x"}], LABELS, r"values: give a list of non-empty strings"),
    ([{"name": "a", "per_class": {"tech": ["Banks"], "business": ["banks"]}}], LABELS,
     r"per_class.tech: every value is also a value of a similar label \['business'\]"),
    ([], [{"name": "tech", "description": "t", "similar": ["sport"]}, {"name": "business", "description": "b"}],
     r"labels\[0\].similar: \['sport'\] are not other labels"),
    ([{"name": "a", "values": ["x"], "colour": "red"}], LABELS, r"unknown field\(s\) \['colour'\]"),
])
def test_bad_attributes_name_the_field_and_the_fix(attributes, labels, error):
    with pytest.raises(TaskSpecError, match=error):
        _task(attributes, labels)


def test_presets_with_attributes():
    for name in ("sst2", "emotion", "ag_news", "amazon"):
        task = load_task(name)
        assert task.attributes and parse_task(task.to_dict()) == task
    assert len(load_task("amazon").labels) == 23


@pytest.mark.parametrize("reply, expected", [
    ("1. Length\n2. Writing style\n3. Tone", ["Length", "Writing style", "Tone"]),
    ("Here are three features:\n\n1. **Tone**: some are formal, others casual.\n2. **Audience**: who reads it",
     ["Tone", "Audience"]),
    ("formal, sarcastic, formal, enthusiastic.", ["formal", "sarcastic", "enthusiastic"]),
    ("1. 1. 1. 2. 3. 4. 5.", []),
    ('- "elections"\n- a very long item that goes on and on for more than eight words\n* oil prices;',
     ["elections", "oil prices"]),
])
def test_list_items_are_read_out_of_a_models_reply(reply, expected):
    assert parse_list(reply, 6) == expected
    assert parse_list(reply, 1) == expected[:1]
