"""Training with Trainer and the DataQualityCallback, label accuracy against a real oracle, the evaluate
modules and the `train` / `measure --oracle --figure` commands: all on real texts with real models."""

import json
import os
import subprocess
import sys

import datasets
import evaluate
import matplotlib.image
import pytest
from huggingface_hub import ModelCard
from transformers import pipeline

from hf_llmgen.callback import CARD_KEY, DataQualityCallback
from hf_llmgen.evaluate_modules import NAMES, module_path
from hf_llmgen.interventions import OracleRelabeler
from hf_llmgen.metrics import (
    EmbeddingCache,
    average_pairwise_similarity,
    class_similarity,
    distinct_n,
    label_distribution,
    measure,
    remote_clique,
    similarity,
    vocabulary_size,
)
from hf_llmgen.train import train_classifier

pytestmark = pytest.mark.slow

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "real_texts.jsonl")


def _rows(source: str) -> list[dict]:
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    return [{"text": r["text"], "label": r["label"]} for r in rows if r["source"].startswith(source)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classifier")
    bank = datasets.Dataset.from_list(_rows("banking77"))
    sms = datasets.Dataset.from_list(_rows("sms_spam"))
    cache = EmbeddingCache(path=str(folder / "embeddings.sqlite"))
    quality = DataQualityCallback(reference=sms, embeddings=cache)
    trainer, metrics = train_classifier(
        bank, str(folder / "model"), eval_dataset=bank, max_steps=8, batch_size=8, learning_rate=2e-4, quality=quality
    )
    return trainer, metrics, quality, folder / "model", cache


def _data_logs(trainer) -> list[dict]:
    return [entry for entry in trainer.state.log_history if "data/rows" in entry]


def test_the_callback_logs_data_metrics_through_the_trainer(trained):
    trainer, _, quality, _, cache = trained
    (logged,) = _data_logs(trainer)
    assert logged["step"] == 0
    expected = measure(trainer.train_dataset, datasets.Dataset.from_list(_rows("sms_spam")), embeddings=cache)
    assert logged["data/rows"] == 48
    assert logged["data/remote_clique_cosine"] == pytest.approx(expected["remote_clique_cosine"])
    assert logged["data/similarity_cosine"] == pytest.approx(expected["similarity_cosine"])
    assert logged["data/label_distribution/counts/card_arrival"] == 8
    assert quality.metrics["rows"] == 48


def test_the_model_card_carries_the_data_metrics_once(trained):
    _, _, quality, folder, _ = trained
    quality.update_model_card(str(folder))  # a second update replaces the section, not adds one
    card = ModelCard.load(folder / "README.md")
    assert card.data[CARD_KEY]["rows"] == 48
    assert card.data[CARD_KEY]["remote_clique_cosine"] == pytest.approx(quality.metrics["remote_clique_cosine"])
    assert card.text.count("## Training data quality") == 1
    assert "eval_accuracy" in json.loads((folder / "eval_results.json").read_text())


def test_train_measures_again_only_when_the_train_set_changed(trained):
    trainer, *_ = trained
    trainer.train()
    assert _data_logs(trainer) == []
    trainer.train_dataset = trainer.train_dataset.select(range(24))
    trainer.train()
    (logged,) = _data_logs(trainer)
    assert logged["data/rows"] == 24


def test_label_accuracy_against_the_trained_oracle_matches_its_predictions(trained):
    _, metrics, _, folder, cache = trained
    bank = datasets.Dataset.from_list(_rows("banking77"))
    result = measure(bank, embeddings=cache, oracle=str(folder))
    predicted = [out["label"] for out in pipeline("text-classification", model=str(folder))(list(bank["text"]))]
    agreed = [p == label for p, label in zip(predicted, bank["label"])]
    assert result["label_accuracy"] == pytest.approx(sum(agreed) / len(agreed))
    assert result["label_accuracy"] == pytest.approx(metrics["eval_accuracy"])
    card_arrival = [a for a, label in zip(agreed, bank["label"]) if label == "card_arrival"]
    assert result["per_class_label_accuracy"]["card_arrival"] == pytest.approx(sum(card_arrival) / 8)


def test_evaluate_modules_load_offline_and_equal_the_functions(trained, monkeypatch, tmp_path):
    _, _, _, folder, cache = trained
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts, labels = [r["text"] for r in _rows("banking77")], [r["label"] for r in _rows("banking77")]
    reference = [r["text"] for r in _rows("sms_spam")]
    vectors, ref_vectors = cache.embed(texts), cache.embed(reference)
    by_class = class_similarity(vectors, labels)
    oracle = measure(datasets.Dataset.from_list(_rows("banking77")), embeddings=cache, oracle=str(folder))
    calls = {
        "remote_clique": ({"data": texts, "metric": "euclidean"}, {"remote_clique": remote_clique(vectors, "euclidean")}),
        "average_pairwise_similarity": ({"data": texts}, {"average_pairwise_similarity": average_pairwise_similarity(vectors)}),
        "class_similarity": ({"data": texts, "labels": labels}, {"intra_class_similarity": by_class.intra_mean}),
        "reference_similarity": ({"data": texts, "reference": reference}, {"similarity": similarity(vectors, ref_vectors)}),
        "label_accuracy": ({"data": texts, "labels": labels, "oracle": str(folder)}, {"label_accuracy": oracle["label_accuracy"]}),
        "lexical_diversity": ({"data": texts}, {"vocabulary_size": vocabulary_size(texts), "distinct_2": distinct_n(texts, 2)}),
        "label_distribution": ({"labels": labels}, label_distribution(labels)),
    }
    assert set(calls) == set(NAMES)
    for name, (inputs, expected) in calls.items():
        result = evaluate.load(module_path(name), cache_dir=str(tmp_path)).compute(**inputs)
        for key, value in expected.items():
            assert result[key] == pytest.approx(value), (name, key)


def test_train_and_measure_commands(tmp_path):
    data = tmp_path / "bank.jsonl"
    datasets.Dataset.from_list(_rows("banking77")).to_json(str(data))
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "cache")}
    train = [sys.executable, "-m", "hf_llmgen.cli", "train", str(data), "--eval", str(data),
             "--output", str(tmp_path / "model"), "--max-steps", "4", "--batch-size", "8",
             "--dataset-repo", "tester/bank-synthetic"]
    printed = subprocess.run(train, check=True, capture_output=True, text=True, env=env).stdout
    eval_accuracy = json.loads(printed)["eval_accuracy"]  # stdout holds the result alone; Trainer logs to stderr
    card = ModelCard.load(tmp_path / "model" / "README.md")
    assert card.data[CARD_KEY]["rows"] == 48 and "# model\n" in card.text  # named after the folder, not its staging
    assert card.data.datasets == ["tester/bank-synthetic"] and "hf_llmgen" in card.data.tags
    [result] = card.data.eval_results  # the evaluation, named after the linked dataset
    assert result.dataset_name == "tester/bank-synthetic" and result.metric_value == pytest.approx(eval_accuracy)
    assert not [name for name in os.listdir(tmp_path / "model") if name.startswith(".partial")]

    measure_cmd = [sys.executable, "-m", "hf_llmgen.cli", "measure", str(data), "--oracle", str(tmp_path / "model"),
                   "--figure", str(tmp_path / "quality.png"), "--output", str(tmp_path / "quality.json")]
    subprocess.run(measure_cmd, check=True, capture_output=True, text=True, env=env)
    assert json.loads((tmp_path / "quality.json").read_text())["label_accuracy"] == pytest.approx(eval_accuracy)
    image = matplotlib.image.imread(str(tmp_path / "quality.png"))
    assert image.shape[0] >= 400 and image.shape[1] >= 1000 and image.std() > 0.05


def test_oracle_relabeling_gives_every_row_the_oracles_label_and_keeps_human_labels(trained):
    *_, folder, _ = trained
    rows = _rows("banking77")
    names = sorted({r["label"] for r in rows})
    shifted = [names[(names.index(r["label"]) + 1) % len(names)] for r in rows]  # every label wrong
    data = datasets.Dataset.from_dict({"text": [r["text"] for r in rows], "label": shifted})
    relabeler = OracleRelabeler(names, str(folder), batch_size=8)
    relabeler.human = {rows[0]["text"]: "top_up_failed"}
    relabelled = data.map(relabeler, batched=True, batch_size=16)
    predicted = pipeline("text-classification", model=str(folder))(list(data["text"]))
    assert list(relabelled["label"][1:]) == [p["label"] for p in predicted[1:]]
    assert relabelled["label_score"][1:] == pytest.approx([p["score"] for p in predicted[1:]])
    assert relabelled[0]["label"] == "top_up_failed" and relabelled[0]["label_score"] == 1.0
    assert list(relabelled["prompted_label"]) == shifted
    for row in relabelled:
        assert row["relabelled_by"] == ("" if row["label"] == row["prompted_label"] else
                                        "human" if row["text"] == rows[0]["text"] else "oracle")
    again = data.map(OracleRelabeler(names, str(folder), batch_size=8), batched=True, batch_size=16)
    assert again._fingerprint == data.map(OracleRelabeler(names, str(folder), batch_size=8), batched=True,
                                          batch_size=16)._fingerprint
