"""Multi-label label replacement on real GoEmotions texts with known label noise, with the real embedding
model."""

import json
import os
import random

import datasets
import pytest

from hf_llmgen.interventions import MultiLabelProxyRelabeler
from hf_llmgen.interventions.multilabel import check_label_sets

pytestmark = pytest.mark.slow

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "goemotions_train_sample.jsonl")


@pytest.fixture(scope="module")
def noisy():
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    names = sorted({label for r in rows for label in r["labels"]})
    rng = random.Random(0)
    truth = [sorted(r["labels"]) for r in rows]
    noisy = [[rng.choice([n for n in names if n not in t])] if rng.random() < 0.4 else t for t in truth]
    return rows, names, truth, noisy, rng.sample(range(len(rows)), 150)


def _exact(label_sets, truth):
    return sum(sorted(a) == b for a, b in zip(label_sets, truth)) / len(truth)


def test_human_labels_repair_label_sets(noisy, tmp_path):
    rows, names, truth, labels, human = noisy
    feature = datasets.Sequence(datasets.ClassLabel(names=names))
    data = datasets.Dataset.from_dict(
        {"text": [r["text"] for r in rows], "labels": [[names.index(n) for n in s] for s in labels]},
        features=datasets.Features({"text": datasets.Value("string"), "labels": feature}),
    )
    relabeler = MultiLabelProxyRelabeler(names, embedding_cache_path=str(tmp_path / "e.sqlite"))
    relabeler.fit([rows[i]["text"] for i in human], [truth[i] for i in human])
    relabelled = data.map(relabeler, batched=True, batch_size=100)
    after = [[names[i] for i in ids] for ids in relabelled["labels"]]
    assert _exact(labels, truth) < 0.65 and _exact(after, truth) > _exact(labels, truth) + 0.15
    assert relabelled.features["labels"] == feature and all(after)
    assert all(sorted(after[i]) == truth[i] for i in human)
    for row, old in zip(relabelled, data["labels"]):
        assert (row["relabelled_by"] == "") == (sorted(row["labels"]) == sorted(old))
        assert len(row["label_scores"]) == len(row["labels"])


def test_names_stay_names(noisy, tmp_path):
    rows, names, truth, labels, human = noisy
    data = datasets.Dataset.from_dict({"text": [r["text"] for r in rows], "labels": labels})
    relabeler = MultiLabelProxyRelabeler(names, embedding_cache_path=str(tmp_path / "e.sqlite"))
    relabelled = data.map(relabeler.fit([rows[i]["text"] for i in human], [truth[i] for i in human]), batched=True)
    assert all(set(s) <= set(names) and s for s in relabelled["labels"])
    assert list(relabelled["prompted_labels"]) == labels


def test_each_label_needs_rows_with_and_without_it():
    with pytest.raises(ValueError, match=r"\['fear'\] are not dataset labels"):
        check_label_sets([["fear"]], ["joy", "anger"])
    with pytest.raises(ValueError, match=r"these fall short .*: \{'anger': 1\}"):
        check_label_sets([["joy"], ["joy"], ["joy", "anger"], [], []], ["joy", "anger"])
    with pytest.raises(ValueError, match=r"\{'joy': 4\}"):
        check_label_sets([["joy"], ["joy"], ["joy", "anger"], ["joy", "anger"]], ["joy", "anger"])
