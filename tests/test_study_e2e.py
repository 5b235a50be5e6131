"""`hf-llmgen study` end to end: a 2 x 2 grid with the embedded SmolLM2, the packaged MiniLM and real SST-2 rows."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hf_llmgen.study.reference import downstream_predictions, read_rows, scores
from test_cli_e2e import finished_requests, start_interruptible

pytestmark = pytest.mark.slow

DATA = os.path.join(os.path.dirname(__file__), "fixtures", "sst2_sample")
GENERATOR_ROWS = 4  # test rows the generator classifies (a baseline, before any generation), a request each


def _command(output):
    return [sys.executable, "-m", "hf_llmgen.cli", "study", "sst2", "--data", DATA, "--output", str(output),
            "--seeds", "1", "--rows", "8", "--test-rows", "120", "--generator-rows", str(GENERATOR_ROWS),
            "--diversifications", "none", "logit suppression", "--interventions", "none", "LR oracle",
            "--batch-size", "4", "--max-new-tokens", "40"]


def _study(output):
    return subprocess.run(_command(output), capture_output=True, text=True, timeout=900)


def _interrupt_in_the_first_generation(output):
    """Start the study, press Ctrl-C once two of its first generation's requests are in the request cache; the
    exit status and stderr."""
    run = start_interruptible(_command(output), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while finished_requests(output / "cache") < GENERATOR_ROWS + 2 and time.monotonic() < deadline:
        assert run.poll() is None, "the study ended before it could be interrupted"
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    _, error = run.communicate(timeout=30)
    return run.returncode, error


def test_a_small_study_writes_every_figure_and_an_interrupted_or_finished_one_resumes(tmp_path):
    code, error = _interrupt_in_the_first_generation(tmp_path / "study")
    assert code == 130 and "Traceback" not in error, error[-3000:]
    assert f"interrupted: {tmp_path / 'study' / 'study.json'} holds 0 finished cells" in error
    assert "To continue from them, run again: hf-llmgen study sst2" in error

    run = _study(tmp_path / "study")
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    record = json.load(open(tmp_path / "study" / "study.json", encoding="utf-8"))
    assert result["summary"] == record["summary"] and len(record["cells"]) == 4
    for cell in record["cells"]:
        assert cell["rows"] == 8 and cell["seed"] == 0
        for metric in ("remote_clique", "average_pairwise_similarity", "similarity_to_test", "label_accuracy",
                       "accuracy", "macro_f1"):
            assert 0.0 <= cell[metric] <= 1.0, (metric, cell)
    oracle_cells = [c for c in record["cells"] if c["intervention"] == "LR oracle"]
    assert all(c["label_accuracy"] == 1.0 for c in oracle_cells)  # every row took the oracle's label
    none = {c["diversification"]: c for c in record["cells"] if c["intervention"] == "none"}
    assert none["none"]["remote_clique"] != none["logit suppression"]["remote_clique"]
    baselines = {b["baseline"]: b for b in record["baseline_summary"]}
    assert set(baselines) == {"zero-shot (label names)", "real 90 rows", "real 180 rows", "real 8 rows",
                              "generator 4-shot (4 test rows)"}
    generator = next(b for b in record["baselines"] if b["baseline"].startswith("generator"))
    top = generator["top_choice"]  # of 4 texts and 2 labels, the most chosen holds at least half
    assert top["label"] in ("negative", "positive", "") and 0.5 <= top["share"] <= 1
    assert record["oracle"]["rows"] == 240 and 0.5 < record["oracle"]["accuracy"] <= 1.0
    assert [g["diversification"] for g in record["generations"]] == ["none", "logit suppression"]
    assert record["request_cache"]["requests"] == sum(g["requests"] for g in record["generations"]) > 0
    assert record["generations"][0]["cached_requests"] >= 2  # what the interrupted run had generated
    table = open(tmp_path / "study" / "study.md", encoding="utf-8").read()
    assert "| logit suppression | LR oracle | 8 |" in table and "| real 180 rows | 180 |" in table
    assert open(tmp_path / "study" / "study.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    again = _study(tmp_path / "study")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.load(open(tmp_path / "study" / "study.json", encoding="utf-8"))["generations"] == record["generations"]


def test_the_command_names_missing_real_data_before_loading_a_model(tmp_path):
    run = subprocess.run([sys.executable, "-m", "hf_llmgen.cli", "study", "trec", "--data", DATA, "--output",
                          str(tmp_path / "study")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "data: no real train split for task 'trec'" in run.stderr and not os.path.exists(tmp_path / "study")


def test_the_fine_tuned_downstream_classifier_learns_a_small_real_set():
    train = read_rows(os.path.join(DATA, "sst2", "train.jsonl"))[:96]
    test = read_rows(os.path.join(DATA, "sst2", "test.jsonl"))[:80]  # 42 positive, 38 negative
    no_vectors = np.zeros((0, 0))  # fine-tuning reads the texts
    predicted = downstream_predictions("finetune", [r["text"] for r in train], no_vectors, [r["label"] for r in train],
                                       [r["text"] for r in test], no_vectors)
    assert len(predicted) == len(test) and set(predicted) <= {"negative", "positive"}
    assert scores(predicted, [r["label"] for r in test])["accuracy"] > 0.6  # 6 steps an epoch: 100 steps, not 18
