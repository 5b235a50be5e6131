"""Multi-label task specs and the planning of label sets, on plain inputs."""

from collections import Counter

import pytest

from hf_llmgen.generation.label_sets import members, plan_label_sets, set_key, set_quotas
from hf_llmgen.generation.prompts import build_messages
from hf_llmgen.task import MultiLabel, TaskSpecError, load_task, parse_task

NAMES = ["anger", "fear", "joy", "love", "neutral"]


def _task(multi_label, names=NAMES):
    labels = [{"name": n, "description": f"{n} felt"} for n in names]
    return parse_task({"text_type": "comment", "labels": labels, "multi_label": multi_label})


def test_sizes_follow_the_shares_labels_are_used_evenly_and_exclusive_ones_stay_alone():
    task = _task({"max_labels": 3, "shares": [0.5, 0.3, 0.2], "exclusive": ["neutral"]})
    plan = plan_label_sets(task, 100, seed=1)
    assert Counter(len(s) for s in plan) == {1: 50, 2: 30, 3: 20}
    used = Counter(label for s in plan for label in s)  # 170 uses: 34 each, give or take the exclusive label
    assert max(used.values()) - min(used.values()) <= 2
    assert all(len(s) == 1 for s in plan if "neutral" in s)
    assert all(list(s) == sorted(s, key=NAMES.index) and len(set(s)) == len(s) for s in plan)
    assert plan == plan_label_sets(task, 100, seed=1) and plan != plan_label_sets(task, 100, seed=2)


def test_shard_quotas_add_up_to_the_plan_and_keys_round_trip():
    task = _task(True)
    whole = Counter(set_key(s) for s in plan_label_sets(task, 30, seed=0))
    shards = [set_quotas(task, 30, 0, shard, 3) for shard in range(3)]
    assert sum((Counter(q) for q in shards), Counter()) == whole
    assert members(task, "anger + joy") == ("anger", "joy") and members(task, "fear") == ("fear",)
    assert task.multi_label == MultiLabel(2, (0.7, 0.3), ())


def test_a_label_set_prompt_names_every_label():
    task = _task(True)
    (message,) = build_messages(task, "simple", "anger + joy", [], 1)
    assert message["content"].startswith("Write a comment whose labels are 'anger' (anger felt) and 'joy' (joy felt).")
    (message,) = build_messages(task, "elements", "anger + joy", [], 1)
    assert "Elements: anger felt; joy felt" in message["content"]


@pytest.mark.parametrize("multi_label, names, error", [
    ({"max_labels": 1}, NAMES, "max_labels: must be an integer from 2 to the 5 labels"),
    ({"max_labels": 6}, NAMES, "from 2 to the 5 labels"),
    ({"shares": [1.0]}, NAMES, "shares: give 2 numbers > 0"),
    ({"exclusive": ["calm"]}, NAMES, r"exclusive: \['calm'\] are not labels"),
    ({"max_labels": 3, "exclusive": ["anger", "fear", "joy"]}, NAMES, "too few other labels"),
    ({"most": 2}, NAMES, r"unknown field\(s\) \['most'\]"),
    (True, ["a + b", "c"], r"\['a \+ b'\] contain ' \+ '"),
])
def test_bad_multi_label_specs_name_the_field(multi_label, names, error):
    with pytest.raises(TaskSpecError, match=error):
        _task(multi_label, names)


def test_single_label_tasks_have_no_label_sets():
    assert load_task("sst2").multi_label is None and "multi_label" not in load_task("sst2").to_dict()
    with pytest.raises(ValueError, match="for multi-label tasks"):
        plan_label_sets(load_task("sst2"), 4, 0)
    task = load_task("goemotions")
    assert task.multi_label.exclusive == ("neutral",) and parse_task(task.to_dict()) == task
