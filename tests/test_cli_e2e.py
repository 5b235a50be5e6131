"""The `hf-llmgen` command, run as a real process with the embedded model; also a kill -9 in mid-run."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import datasets
import pytest

from hf_llmgen.builder import REQUEST_CACHE_FILE

pytestmark = pytest.mark.slow

SUMMARY_KEYS = {
    "requests", "cached_requests", "candidates", "rows", "dropped", "prompt_tokens", "completion_tokens", "seconds"
}


def cli(*args):
    return [sys.executable, "-m", "hf_llmgen.cli", *args]


def start_interruptible(args, **popen) -> subprocess.Popen:
    """Start `args` with Ctrl-C's default action, as a terminal would, also when these tests run in a background
    job (which ignores SIGINT, and its children inherit that)."""
    return subprocess.Popen(args, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **popen)


def finished_requests(cache_dir) -> int:
    path = os.path.join(cache_dir, REQUEST_CACHE_FILE)
    if not os.path.exists(path):
        return 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not created yet
            return 0


def test_generate_writes_dataset_card_and_summary(tmp_path):
    out = tmp_path / "out"
    args = ["generate", "sms_spam", "--num-examples", "6", "--max-new-tokens", "40", "--output", str(out),
            "--cache-dir", str(tmp_path / "c")]
    subprocess.run(cli(*args, "--format", "parquet", "--seed", "2"), check=True, cwd=tmp_path)
    summary = json.loads((out / "generation_summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["rows"] == 6 and summary["rows_per_label"] == {"ham": 5, "spam": 1}  # the preset's shares
    assert summary["requests"] >= 6 and summary["cached_requests"] == 0
    assert summary["rows"] + sum(summary["dropped"].values()) == summary["candidates"]
    assert summary["completion_tokens"] > 0 and summary["seconds"] > 0
    # the local backend has no per-token price: nothing spent is priced, every token was spent in this run
    assert summary["cost_usd"] is None and summary["spent_completion_tokens"] == summary["completion_tokens"]
    assert summary["estimate"]["requests_if_every_text_is_kept"] == 6
    card = (out / "README.md").read_text()
    assert "| cost of this run (USD) | not priced |" in card
    assert "task_categories:" in card and "| `seed` | `2` |" in card and "| ham | 5 |" in card
    ds = datasets.load_dataset("parquet", data_files=str(out / "train.parquet"), split="train")
    assert len(ds) == 6


def test_a_run_that_keeps_no_rows_says_why(tmp_path):
    args = ["generate", "sst2", "--num-examples", "2", "--max-requests", "1", "--min-words", "500",
            "--max-new-tokens", "16",
            "--output", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")]
    result = subprocess.run(cli(*args), capture_output=True, text=True)
    assert result.returncode == 2
    assert "generate: the run kept no rows after 1 requests (dropped: {'too_short': 1}" in result.stderr
    assert "raise max_requests or lower min_words" in result.stderr and not (tmp_path / "o").exists()


def test_bad_task_file_exits_with_the_field_named(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("text_type: ''\nlabels: [{name: a, description: x}, {name: b, description: y}]\n")
    result = subprocess.run(
        cli("generate", str(spec), "--output", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "task.text_type" in result.stderr
    assert finished_requests(tmp_path / "c") == 0


def test_a_killed_run_resumes_without_reissuing_finished_requests(tmp_path):
    options = ["--num-examples", "12", "--seed", "9", "--batch-size", "3", "--max-new-tokens", "40"]

    def run_generate(name):
        return cli("generate", "sst2", *options, "--output", str(tmp_path / name), "--cache-dir", str(tmp_path / name))

    proc = subprocess.Popen(run_generate("killed"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while finished_requests(tmp_path / "killed") < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before_kill = finished_requests(tmp_path / "killed")
    assert done_before_kill >= 4
    written = {"train", "README.md", "generation_summary.json"} & set(os.listdir(tmp_path / "killed"))
    assert not written, f"a killed run left {written} beside its cache"

    subprocess.run(run_generate("killed"), check=True, capture_output=True)
    resumed = json.loads((tmp_path / "killed" / "generation_summary.json").read_text())
    assert resumed["rows"] == 12
    assert resumed["cached_requests"] == done_before_kill
    assert finished_requests(tmp_path / "killed") == resumed["requests"]
    resumed_rows = datasets.load_from_disk(str(tmp_path / "killed" / "train"))
    assert len(resumed_rows) == 12 and resumed_rows["label"] == resumed_rows["prompted_label"]
