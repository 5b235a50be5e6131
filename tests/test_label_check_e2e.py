"""The label check in real runs of the embedded model: drop, relabel, a label the model cannot write, measure."""

import json
import subprocess
import sys

import datasets
import pytest
import yaml

import hf_llmgen  # noqa: F401  (registers the builder)
from hf_llmgen.builder import generation_summary

pytestmark = pytest.mark.slow


def cli(*args):
    return subprocess.run([sys.executable, "-m", "hf_llmgen.cli", *args], capture_output=True, text=True)


def test_drop_writes_the_off_label_rows_aside_and_counts_them(tmp_path):
    out = tmp_path / "out"
    # the paper's `elements` prompt: the small model writes many "negative" reviews that read as positive; two
    # rounds of short texts hold enough of them (the rows then fall short of 8, which is counted, not an error)
    result = cli("generate", "sst2", "--num-examples", "8", "--prompt", "elements", "--max-new-tokens", "40",
                 "--max-requests", "16", "--output", str(out), "--cache-dir", str(tmp_path / "c"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "generation_summary.json").read_text())
    off_label = summary["dropped"]["off_label"]
    assert off_label > 0
    assert summary["candidates"] == summary["rows"] + sum(summary["dropped"].values())
    checked = summary["label_check"]
    assert sum(c["checked"] for c in checked.values()) == summary["rows"] + off_label + summary["dropped"].get(
        "over_quota", 0)
    assert sum(c["checked"] - c["passed"] for c in checked.values()) == off_label
    removed = datasets.load_from_disk(str(out / "removed"))
    assert len(removed) == summary["removed_rows"] == off_label
    assert all(check != removed.features["label"].int2str(label)
               for check, label in zip(removed["label_check"], removed["label"]))
    kept = datasets.load_from_disk(str(out / "train"))
    assert kept["label_check"] == [kept.features["label"].int2str(label) for label in kept["label"]]
    card = (out / "README.md").read_text()
    assert f"dropped {off_label} off-label rows" in card and "| negative |" in card

    measured = cli("measure", str(out), "--task", "sst2")
    assert measured.returncode == 0, measured.stderr
    assert "label check, per label" in measured.stdout
    assert "negative" in measured.stdout.split("label check, per label")[1]


def test_relabel_takes_the_checkers_label_and_keeps_the_prompted_one(tmp_path):
    options = dict(num_examples=8, seed=1, prompt="elements", label_policy="relabel", max_new_tokens=40,
                   cache_dir=str(tmp_path))
    builder = datasets.load_dataset_builder("hf_llmgen", "sst2", **options)
    builder.download_and_prepare()
    ds = builder.as_dataset(split="train")
    names = ds.features["label"].names
    changed = [row for row in ds if row["label"] != row["prompted_label"]]
    assert changed, "the elements prompt gave no row the check disagreed with"
    assert all(names[row["label"]] == row["label_check"] for row in changed)
    summary = generation_summary(builder)
    assert summary.relabelled == len(changed)
    assert summary.candidates == summary.rows + sum(summary.dropped.values())


def test_the_llm_check_scores_each_row_and_a_rerun_from_the_request_cache_gives_the_same_rows_and_verdicts(tmp_path):
    options = dict(num_examples=6, seed=2, label_check="llm", label_policy="keep", max_new_tokens=40,
                   cache_dir=str(tmp_path))
    builder = datasets.load_dataset_builder("hf_llmgen", "sst2", **options)
    builder.download_and_prepare()
    first = builder.as_dataset(split="train")
    assert set(first["label_check"]) <= {"negative", "positive"}
    assert all(0.5 <= score <= 1 for score in first["label_check_score"])  # the top of two renormalised options
    summary = generation_summary(builder)
    checked = sum(c["checked"] for c in summary.to_dict()["label_check"].values())
    assert checked == summary.rows + summary.dropped.get("over_quota", 0)  # every candidate the filters let through

    builder.download_and_prepare(download_mode="force_redownload")  # prepared again, every request from the cache
    again = builder.as_dataset(split="train")
    assert generation_summary(builder).cached_requests == generation_summary(builder).requests
    columns = ("text", "label", "label_check", "label_check_score")
    assert [again[c] for c in columns] == [first[c] for c in columns]


def test_a_label_the_model_cannot_write_ends_the_run_with_what_to_try(tmp_path):
    task = {
        "text_type": "sentence",
        "labels": [{"name": "weather", "description": "a sentence about the weather"},
                   {"name": "code", "description": "a sentence about the weather at sea"}],
    }
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(task))
    # the human labels teach the proxy that a `code` text is a string of digits, which the model never writes
    marks = [("It is raining hard in the city today.", "weather"), ("A cold wind blows over the hills.", "weather"),
             ("Sunny skies and a light breeze this afternoon.", "weather"), ("4821 9932 1177 3310", "code"),
             ("0093 1284 5521 7730", "code"), ("6612 0048 2291 5583", "code")]
    labels = tmp_path / "human_labels.jsonl"
    labels.write_text("".join(json.dumps({"row": i, "text": t, "label": lb}) + "\n" for i, (t, lb) in enumerate(marks)))
    result = cli("generate", str(tmp_path / "task.yaml"), "--num-examples", "4", "--label-check", "proxy",
                 "--human-labels", str(labels), "--output", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"))
    assert result.returncode == 1, result.stderr
    assert "label 'code': none of the" in result.stderr
    assert "passed the 'proxy' label check" in result.stderr and "seed examples" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "train").exists()


def test_label_check_options_are_checked_before_any_model_loads(tmp_path):
    result = cli("generate", "sst2", "--label-check", "proxy", "--output", str(tmp_path / "o"))
    assert result.returncode == 2 and "human_labels:" in result.stderr
    result = cli("generate", "goemotions", "--label-policy", "relabel", "--output", str(tmp_path / "o"))
    assert result.returncode == 2 and "label_policy: 'relabel'" in result.stderr
    result = cli("generate", "sst2", "--label-check", "proxy", "--human-labels", str(tmp_path / "missing.jsonl"),
                 "--output", str(tmp_path / "o"))
    assert result.returncode == 2 and "missing.jsonl does not exist" in result.stderr
    result = cli("generate", "banking77", "--label-check", "llm", "--output", str(tmp_path / "o"))
    assert result.returncode == 2 and "at most 9 labels, and this task has 77" in result.stderr
