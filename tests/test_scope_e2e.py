"""Out-of-scope filtering on real Banking77 texts mixed with real SMS texts, with the real embedding model."""

import json
import os
import random

import datasets
import pytest

from hf_llmgen.interventions import ScopeFilter

pytestmark = pytest.mark.slow

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _texts(name):
    return [json.loads(line)["text"] for line in open(os.path.join(FIXTURES, name), encoding="utf-8")]


@pytest.fixture(scope="module")
def mixed():
    inside, outside = _texts("banking77_train_sample.jsonl"), _texts("sms_spam_train_sample.jsonl")
    data = datasets.Dataset.from_dict({"text": inside + outside, "in_scope": [True] * len(inside) + [False] * len(outside)})
    return data, random.Random(0).sample(range(len(data)), 90)


def test_ninety_marks_remove_most_out_of_scope_rows_and_keep_the_rest(mixed, tmp_path):
    data, marked = mixed
    scope = ScopeFilter(embedding_cache_path=str(tmp_path / "e.sqlite"))
    scope.fit(data.select(marked)["text"], data.select(marked)["in_scope"])
    kept = data.filter(scope, batched=True, batch_size=100)
    outside_kept = sum(not mark for mark in kept["in_scope"])
    inside_kept = sum(kept["in_scope"])
    assert outside_kept <= 0.2 * list(data["in_scope"]).count(False)
    assert inside_kept >= 0.9 * list(data["in_scope"]).count(True)


def test_split_keeps_the_removed_rows_with_their_scores(mixed, tmp_path):
    data, marked = mixed
    scope = ScopeFilter(embedding_cache_path=str(tmp_path / "e.sqlite"))
    scope.fit(data.select(marked)["text"], data.select(marked)["in_scope"])
    parts = scope.split(data, batch_size=100)
    assert len(parts["kept"]) + len(parts["removed"]) == len(data)
    assert sorted(list(parts["kept"]["text"]) + list(parts["removed"]["text"])) == sorted(data["text"])
    assert all(s >= 0.5 for s in parts["kept"]["scope_score"]) and all(s < 0.5 for s in parts["removed"]["scope_score"])
    assert list(parts["kept"]["text"]) == list(data.filter(scope, batched=True)["text"])


def test_too_few_out_of_scope_marks_are_refused_before_embedding(tmp_path):
    scope = ScopeFilter(embedding_model=str(tmp_path / "no-such-model"))
    with pytest.raises(ValueError, match="at least 2 in-scope and 2 out-of-scope rows, got 3 in and 1 out"):
        scope.fit(["a", "b", "c", "d"], [True, True, True, False])
    with pytest.raises(ValueError, match="threshold"):
        ScopeFilter(threshold=1.0)


def test_num_proc_workers_filter_like_one_process(mixed, tmp_path):
    data, marked = mixed
    scope = ScopeFilter(embedding_cache_path=str(tmp_path / "fresh.sqlite"))
    scope.fit(data.select(marked)["text"], data.select(marked)["in_scope"])  # torch has run in this process
    parallel = data.filter(scope, batched=True, batch_size=50, num_proc=2)  # workers embed the other rows
    assert list(parallel["text"]) == list(data.filter(scope, batched=True, batch_size=50)["text"])
