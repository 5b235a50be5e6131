"""Label replacement on real Banking77 texts with known label noise, with the real embedding model."""

import json
import os
import random

import datasets
import pytest

from hf_llmgen.interventions import ProxyRelabeler

pytestmark = pytest.mark.slow

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "banking77_train_sample.jsonl")


@pytest.fixture(scope="module")
def noisy():
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    names = sorted({r["label"] for r in rows})
    rng = random.Random(0)
    truth = [r["label"] for r in rows]
    noisy = [rng.choice([n for n in names if n != t]) if rng.random() < 0.4 else t for t in truth]
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    data = datasets.Dataset.from_dict({"text": [r["text"] for r in rows], "label": noisy}, features=features)
    return data, names, truth, rng.sample(range(len(rows)), 90)


def _accuracy(labels, truth):
    return sum(a == b for a, b in zip(labels, truth)) / len(truth)


def test_ninety_human_labels_repair_most_of_the_noise(noisy, tmp_path):
    data, names, truth, human = noisy
    relabeler = ProxyRelabeler(names, embedding_cache_path=str(tmp_path / "e.sqlite"))
    relabeler.fit([data[i]["text"] for i in human], [truth[i] for i in human])
    relabelled = data.map(relabeler, batched=True, batch_size=100)
    before = _accuracy([names[i] for i in data["label"]], truth)
    after = _accuracy([names[i] for i in relabelled["label"]], truth)
    assert before < 0.65 and after > before + 0.25
    assert relabelled.features["label"] == data.features["label"]
    changed = [i for i, by in enumerate(relabelled["relabelled_by"]) if by == "proxy"]
    assert changed and all(relabelled["label"][i] != data["label"][i] for i in changed)
    assert relabelled["prompted_label"] == data["label"]
    assert all(0 <= s <= 1 for s in relabelled["label_score"])


def test_a_label_with_one_human_label_is_left_out_and_keeps_its_rows(noisy, tmp_path, caplog):
    data, names, truth, human = noisy
    rare = names[0]
    labelled = [i for i in human if truth[i] != rare] + [next(i for i in human if truth[i] == rare)]
    relabeler = ProxyRelabeler(names, embedding_cache_path=str(tmp_path / "e.sqlite"))
    relabeler.fit([data[i]["text"] for i in labelled], [truth[i] for i in labelled])
    assert relabeler.left_out == [rare] and f"['{rare}'] have fewer than 2 labelled rows" in caplog.text
    relabelled = data.map(relabeler, batched=True, batch_size=100)
    rare_id = names.index(rare)
    unlabelled = sorted(set(range(len(data))) - set(labelled))
    assert all((relabelled["label"][i] == rare_id) == (data["label"][i] == rare_id) for i in unlabelled)
    assert _accuracy([names[i] for i in relabelled["label"]], truth) > _accuracy([names[i] for i in data["label"]], truth) + 0.15


def test_label_names_stay_names_and_the_transform_fingerprints_stably(noisy, tmp_path):
    data, names, truth, human = noisy
    as_names = datasets.Dataset.from_dict({"text": data["text"], "label": [names[i] for i in data["label"]]})

    def fitted():
        relabeler = ProxyRelabeler(names, embedding_cache_path=str(tmp_path / "e.sqlite"))
        return relabeler.fit([data[i]["text"] for i in human], [truth[i] for i in human])

    first = as_names.map(fitted(), batched=True)
    second = as_names.map(fitted(), batched=True)
    assert set(first["label"]) <= set(names)
    assert first._fingerprint == second._fingerprint
    assert first["label"] == second["label"]


def test_num_proc_workers_relabel_like_one_process(noisy, tmp_path):
    data, names, truth, human = noisy
    relabeler = ProxyRelabeler(names, embedding_cache_path=str(tmp_path / "fresh.sqlite"))
    relabeler.fit([data[i]["text"] for i in human], [truth[i] for i in human])  # torch has run in this process
    parallel = data.map(relabeler, batched=True, batch_size=50, num_proc=2)  # workers embed the other rows
    assert parallel["label"] == data.map(relabeler, batched=True, batch_size=50)["label"]
