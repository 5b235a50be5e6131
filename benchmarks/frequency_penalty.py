"""The default generation with and without a frequency penalty: requests, time, drops by reason, label accuracy
against the study's oracle, diversity and downstream accuracy (the study's classifier on the real test rows).
Each run starts from an empty datasets and request cache; results are appended to results/frequency_penalty.json.

    python benchmarks/frequency_penalty.py --data ../shared/data --task sst2 --rows 100 --penalties 0 0.5 1.0
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import datasets
import numpy as np
from record import commit, machine, peak_rss_mib, write_result

from hf_llmgen.builder import generation_summary
from hf_llmgen.metrics.diversity import remote_clique
from hf_llmgen.study.reference import fit_classifier, load_real_data, scores
from hf_llmgen.study.run import Study
from hf_llmgen.task import load_task

HERE = os.path.dirname(os.path.abspath(__file__))


def run(study: Study, task: str, rows: int, seed: int, penalty: float) -> dict:
    """One generation with `penalty`, measured."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="penalty_") as cache:  # an empty cache: every request is made
        builder = datasets.load_dataset_builder("hf_llmgen", task, cache_dir=cache, num_examples=rows, seed=seed,
                                                frequency_penalty=penalty)
        builder.download_and_prepare()
        summary = generation_summary(builder).to_dict()
        data = builder.as_dataset(split="train").select_columns(["text", "label"])
        names = data.features["label"].names
        data = data.to_dict()  # in memory: the cache folder goes when the block ends
    labels = [names[i] for i in data["label"]]
    vectors = study.embed(data["text"])
    return {"task": task, "seed": seed, "rows": len(labels), "frequency_penalty": penalty,
            "seconds": round(time.perf_counter() - started, 1), "requests": summary["requests"],
            "completion_tokens": summary["completion_tokens"], "dropped": summary["dropped"],
            "label_accuracy": float(np.mean(study.oracle.predict(vectors) == np.array(labels))),
            "diversity": remote_clique(vectors),
            "downstream_accuracy": scores(fit_classifier(vectors, labels).predict(study.test_x), study.test_y)["accuracy"],
            "median_words": float(np.median([len(text.split()) for text in data["text"]]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--penalties", nargs="+", type=float, default=[0.0, 0.5, 1.0])
    parser.add_argument("--embedding-cache-dir", default=None, help="the study's cache folder (default: a new one)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "frequency_penalty.json"))
    args = parser.parse_args()
    spec = load_task(args.task)
    result = json.load(open(args.output)) if os.path.exists(args.output) else {"runs": []}
    with tempfile.TemporaryDirectory(prefix="penalty_embeddings_") as scratch:
        study = Study(spec, args.task, load_real_data(args.data, spec, 2000), max(400, args.rows), 8000,
                      args.embedding_cache_dir or scratch, {}, "diverse")
        for penalty in args.penalties:
            result["runs"].append({**run(study, args.task, args.rows, args.seed, penalty), "commit": commit()})
            result.update(machine=machine(), peak_rss_mib=peak_rss_mib())
            write_result(args.output, result)


if __name__ == "__main__":
    main()
