"""How many optimizer steps `hf-llmgen train` needs on a small set: `train_classifier` (its defaults: 3 epochs,
batch size 16, learning rate 5e-5) on the first N of a task's shuffled real train rows, with `min_steps` 0 (exactly
3 epochs) and the default, and with each training seed of `--seeds` (the spread a fine-tune on few rows has),
scored on shuffled real test rows. Each run is appended to the result file, with its steps, final training loss,
time and peak memory:

    python benchmarks/fine_tuning_steps.py --data ../shared/data --task sst2 --rows 90 180 400 --min-steps 0 100
    python benchmarks/fine_tuning_steps.py --data ../shared/data --task sst2 --rows 90 --min-steps 100 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from record import commit, machine, peak_rss_mib, write_result

RESULT = os.path.join(os.path.dirname(__file__), "results", "fine_tuning_steps.json")


def run(train: list[dict], test: list[dict], min_steps: int, seed: int) -> dict:
    """Fine-tune on `train` with `min_steps` and training seed `seed`; accuracy on `test` and what the training took."""
    import datasets

    from hf_llmgen.metrics.accuracy import load_oracle, oracle_predictions
    from hf_llmgen.train import train_classifier

    data = datasets.Dataset.from_dict({"text": [r["text"] for r in train], "label": [r["label"] for r in train]})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        trainer, _ = train_classifier(data, folder, min_steps=min_steps, seed=seed)
        predicted = oracle_predictions(load_oracle(folder), [r["text"] for r in test])
    state = trainer.state
    return {"rows": len(train), "min_steps": min_steps, "seed": seed, "steps": state.global_step,
            "epochs": round(state.epoch, 2), "train_loss": round(state.log_history[-1]["train_loss"], 3),
            "accuracy": float(np.mean(np.array(predicted) == np.array([r["label"] for r in test]))),
            "seconds": round(time.perf_counter() - started, 1), "peak_rss_mib": round(peak_rss_mib())}


def main() -> None:
    from hf_llmgen.study.reference import load_real_data
    from hf_llmgen.task import load_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--rows", type=int, nargs="+", default=[90, 180, 400])
    parser.add_argument("--min-steps", type=int, nargs="+", default=[0, 100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds")
    parser.add_argument("--test-rows", type=int, default=400)
    args = parser.parse_args()

    real = load_real_data(args.data, load_task(args.task), args.test_rows)
    runs = json.load(open(RESULT, encoding="utf-8"))["runs"] if os.path.exists(RESULT) else []
    for rows in args.rows:
        for min_steps in args.min_steps:
            for seed in args.seeds:
                result = {"task": args.task, "test_rows": len(real.test),
                          **run(real.train[:rows], real.test, min_steps, seed), "commit": commit()}
                print(json.dumps(result), flush=True)
                runs.append(result)
                write_result(RESULT, {"machine": machine(), "runs": runs})


if __name__ == "__main__":
    main()
