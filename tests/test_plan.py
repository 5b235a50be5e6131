import random

from hf_llmgen.generation.plan import add_to_pool, derive_seed, label_quotas, pick_examples, round_labels
from hf_llmgen.task import Example


def test_quotas_are_balanced_and_sum_to_the_total():
    quotas = label_quotas(["a", "b", "c"], 10)
    assert quotas == {"a": 4, "b": 3, "c": 3}


def test_quotas_follow_label_shares_by_largest_remainder():
    assert label_quotas(["ham", "spam"], 10, shares=(87, 13)) == {"ham": 9, "spam": 1}
    assert label_quotas(["a", "b", "c"], 10, shares=(0.5, 0.25, 0.25)) == {"a": 5, "b": 3, "c": 2}
    assert label_quotas(["a", "b", "c"], 7, shares=(2, 1, 1)) == {"a": 3, "b": 2, "c": 2}
    assert sum(label_quotas(list("abcdef"), 401, shares=(35, 29, 14, 11, 8, 3)).values()) == 401


def test_shard_quotas_add_up_to_the_whole():
    labels = ["a", "b", "c", "d", "e", "f"]
    shards = [label_quotas(labels, 101, shard, 4) for shard in range(4)]
    total = {label: sum(s[label] for s in shards) for label in labels}
    assert total == label_quotas(labels, 101)


def test_round_labels_cover_needs_up_to_the_batch_size():
    assert round_labels({"a": 3, "b": 1, "c": 0}, texts_per_request=1, batch_size=10) == ["a", "b", "a", "a"]
    assert round_labels({"a": 3, "b": 1}, texts_per_request=1, batch_size=2) == ["a", "b"]
    assert round_labels({"a": 5, "b": 1}, texts_per_request=3, batch_size=10) == ["a", "b", "a"]


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, 0, 1, 2) == derive_seed(0, 0, 1, 2)
    assert len({derive_seed(0, 0, r, i) for r in range(20) for i in range(20)}) == 400
    assert 0 <= derive_seed("x") < 2**31


def test_elements_examples_take_one_per_label_with_the_target_label_included():
    pool = {name: [Example(f"{name} {i}", name) for i in range(3)] for name in "abcde"}
    examples = pick_examples(pool, "c", "elements", 3, random.Random(0))
    labels = [ex.label for ex in examples]
    assert len(labels) == 3 and len(set(labels)) == 3 and "c" in labels


def test_simple_examples_come_from_the_target_label_only():
    pool = {"a": [Example("a1", "a"), Example("a2", "a")], "b": [Example("b1", "b")]}
    examples = pick_examples(pool, "a", "simple", 5, random.Random(0))
    assert sorted(ex.text for ex in examples) == ["a1", "a2"]


def test_an_empty_pool_gives_a_zero_shot_prompt():
    assert pick_examples({"a": [], "b": []}, "a", "elements", 3, random.Random(0)) == []


def test_the_pool_stays_bounded_and_samples_all_additions():
    rng = random.Random(0)
    pool: list = []
    for seen in range(1, 10_001):
        add_to_pool(pool, Example(str(seen), "a"), seen, 100, rng)
    assert len(pool) == 100
    values = [int(ex.text) for ex in pool]
    assert min(values) < 2_000 and max(values) > 8_000  # not just the first or the last hundred
