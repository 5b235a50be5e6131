"""The targeted-data loop and callback with real parts: a MiniLM classifier trained a few steps on real
Banking77 rows, the embedded SmolLM2 writing hypotheses and texts, Trainer retraining."""

import json
import os
import subprocess
import sys

import datasets
import pytest
import yaml
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

from hf_llmgen.folders import saved_split
from hf_llmgen.metrics.embeddings import default_embedding_model
from hf_llmgen.targeted import BlindSpotCallback, NoConfidentErrors, TargetedLoop
from hf_llmgen.task import TaskSpecError
from hf_llmgen.train import train_classifier

pytestmark = pytest.mark.slow

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
FEW_STEPS = {"max_steps": 4, "batch_size": 8, "learning_rate": 2e-4}


def _jsonl(name: str) -> datasets.Dataset:
    rows = [json.loads(line) for line in open(os.path.join(FIXTURES, name), encoding="utf-8")]
    return datasets.Dataset.from_list([{"text": r["text"], "label": r["label"]} for r in rows])


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    """A classifier trained 8 steps on 60 real rows (it errs, often confidently), and its train and eval rows."""
    folder = tmp_path_factory.mktemp("targeted")
    data = _jsonl("banking77_train_sample.jsonl").shuffle(seed=0)
    train, evaluation = data.select(range(60)), data.select(range(60, 180))
    train_classifier(train, str(folder / "start"), max_steps=8, batch_size=8, learning_rate=2e-4)
    train.to_json(str(folder / "train.jsonl"))
    evaluation.to_json(str(folder / "eval.jsonl"))
    return folder


def test_one_round_finds_blind_spots_writes_hypotheses_adds_rows_and_retrains(start, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "hf_llmgen.cli", "target", str(start / "start"),
            "--train", str(start / "train.jsonl"), "--eval", str(start / "eval.jsonl"), "--output", str(out),
            "--rounds", "1", "--per-hypothesis", "2", "--max-hypotheses", "2", "--threshold", "0.18",
            "--max-steps", "4", "--train-batch-size", "8", "--learning-rate", "2e-4",
            "--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    before, after = [json.loads(line) for line in done.stdout.splitlines()]
    assert before["round"] == 0 and after["round"] == 1 and after["before"] == before["test"]
    for scores in (before["test"], after["test"]):
        assert set(scores) == {"accuracy", "macro_f1", "confident_errors", "own_threshold",
                               "confident_errors_own_threshold", "rows"} and scores["rows"] == 120
        assert 0 < scores["own_threshold"] <= 1
    assert before["test"]["confident_errors"] > 0 and after["blind_spot_errors"] > 0
    assert 0 <= after["blind_spot_errors_now_right"] <= after["blind_spot_errors"]

    hypotheses = yaml.safe_load((out / "round_1" / "hypotheses.yaml").read_text(encoding="utf-8"))
    entries = hypotheses["hypotheses"]
    assert after["hypotheses"] == len(entries) >= 1 and hypotheses["source"] == "llm"
    assert all(e["source"] == "llm" and e["errors"] >= 1 and e["label"] != e["mistaken_for"] for e in entries)
    added = saved_split(str(out / "round_1" / "added"), "train")
    assert len(added) == after["added_rows"] == sum(after["rows_per_hypothesis"].values()) == 2 * len(entries)
    known = {(e["label"], e["hypothesis"]) for e in entries}
    assert all((row["target_label"], row["hypothesis"]) in known for row in added)
    assert all(added.features["label"].int2str(row["label"]) == row["target_label"] for row in added)

    card = (out / "round_1" / "added" / "README.md").read_text(encoding="utf-8")
    assert "## Blind spots targeted" in card and entries[0]["hypothesis"] in card
    model_card = (out / "round_1" / "model" / "README.md").read_text(encoding="utf-8")
    assert "## Targeted training data (hf_llmgen, round 1)" in model_card and "own threshold" in model_card

    model_file = out / "round_1" / "model" / "model.safetensors"
    written = model_file.stat().st_mtime_ns
    again = subprocess.run(args, check=True, capture_output=True, text=True)  # finished rounds are read back
    assert [json.loads(line) for line in again.stdout.splitlines()] == [before, after]
    assert model_file.stat().st_mtime_ns == written


def test_bad_inputs_are_named_before_any_training_or_generation(start, tmp_path):
    train, evaluation = _jsonl("banking77_train_sample.jsonl"), datasets.load_dataset(
        "json", data_files=str(start / "eval.jsonl"), split="train")
    spam = _jsonl("sms_spam_train_sample.jsonl")
    with pytest.raises(ValueError, match=r"classifier: it has the labels .* the data \['ham', 'spam'\]"):
        TargetedLoop(str(start / "start"), spam, spam, str(tmp_path / "a")).run(1)
    with pytest.raises(NoConfidentErrors, match="no error with confidence >= 1.010 on these 120 rows"):
        TargetedLoop(str(start / "start"), train, evaluation, str(tmp_path / "b"), threshold=1.01).run(1)
    assert not os.path.exists(tmp_path / "b" / "round_1" / "added")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("hypotheses:\n- label: refund\n  hypothesis: Texts that ask for money back.\n", encoding="utf-8")
    with pytest.raises(TaskSpecError, match=r"targets \(.*wrong.yaml\)\[0\]\.label: 'refund' is not one of"):
        TargetedLoop(str(start / "start"), train, evaluation, str(tmp_path / "c"), hypotheses=str(wrong))


def _trainer(data: datasets.Dataset, names: list[str], output: str, callback) -> Trainer:
    tokenizer = AutoTokenizer.from_pretrained(default_embedding_model())
    model = AutoModelForSequenceClassification.from_pretrained(
        default_embedding_model(), num_labels=len(names), id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)})
    def encode(batch: dict) -> dict:
        return {**tokenizer(batch["text"], truncation=True), "label": [names.index(x) for x in batch["label"]]}

    encoded = data.map(encode, batched=True, remove_columns=["text"])
    args = TrainingArguments(output_dir=output, max_steps=4, per_device_train_batch_size=8, learning_rate=2e-4,
                             save_strategy="no", report_to="none")
    return Trainer(model=model, args=args, train_dataset=encoded, processing_class=tokenizer, callbacks=[callback])


def test_the_callback_writes_hypotheses_for_the_next_run_when_training_ends(start, tmp_path):
    train = datasets.load_dataset("json", data_files=str(start / "train.jsonl"), split="train")
    evaluation = datasets.load_dataset("json", data_files=str(start / "eval.jsonl"), split="train")
    names = sorted(set(train["label"]))
    callback = BlindSpotCallback(evaluation, threshold=0.18, max_hypotheses=2, text_type="customer message to a bank")
    _trainer(train, names, str(tmp_path / "model"), callback).train()
    written = yaml.safe_load((tmp_path / "model" / "hypotheses.yaml").read_text(encoding="utf-8"))
    assert callback.spots and callback.threshold > 0
    assert len(callback.targets) + sum(callback.dropped.values()) == 2  # every answer is a hypothesis or a drop
    assert [e["hypothesis"] for e in written["hypotheses"]] == [t.hypothesis for t in callback.targets]
    assert [e["errors"] for e in written["hypotheses"]] == [spot.size for spot in callback.spots]

    spam = _jsonl("sms_spam_train_sample.jsonl")
    with pytest.raises(ValueError, match="do not match the dataset's labels"):
        _trainer(train, names, str(tmp_path / "other"), BlindSpotCallback(spam)).train()
