"""Multi-label label replacement on real GoEmotions rows with known corruption: exact-set accuracy before and
after, per k human labels and selection strategy.

`--rows` train rows whose labels all lie in `--labels`; a share `--noise` of them get one wrong label in
place of their set (a misaligned generator); k rows chosen by each strategy get their true sets (the
person); one proxy per label relabels every row. Writes a JSON result file.

    python benchmarks/multilabel_replacement.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import os
import random
import time

import datasets
import numpy as np
from record import machine, mean_by, peak_rss_mib, write_result

from hf_llmgen.interventions import MultiLabelProxyRelabeler
from hf_llmgen.interventions.selection import STRATEGIES, choose_rows
from hf_llmgen.metrics.embeddings import EmbeddingCache

LABELS = ["admiration", "amusement", "anger", "curiosity", "gratitude", "love"]


def relabel(data: datasets.Dataset, truth: list[list[str]], human: list[int]) -> dict:
    """Exact-set accuracy and mean Jaccard after replacement; an error when a label has too few human rows."""
    started = time.perf_counter()
    try:
        relabeler = MultiLabelProxyRelabeler(LABELS).fit(list(data.select(human)["text"]), [truth[i] for i in human])
    except ValueError as err:
        return {"error": str(err)}
    after = data.map(relabeler, batched=True, batch_size=500, load_from_cache_file=False)["labels"]
    return {**scores(after, truth), "seconds": time.perf_counter() - started}


def scores(label_sets: list[list[str]], truth: list[list[str]]) -> dict:
    pairs = [(set(a), set(b)) for a, b in zip(label_sets, truth)]
    return {"exact": float(np.mean([a == b for a, b in pairs])),
            "jaccard": float(np.mean([len(a & b) / len(a | b) for a, b in pairs]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--noise", type=float, default=0.4)
    parser.add_argument("--k", type=int, nargs="+", default=[90, 180])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    default_output = os.path.join(os.path.dirname(__file__), "results", "multilabel_replacement.json")
    parser.add_argument("--output", default=default_output)
    args = parser.parse_args()

    real = datasets.load_dataset("json", data_files=os.path.join(args.data, "goemotions", "train.jsonl"), split="train")
    real = real.filter(lambda labels: bool(labels) and set(labels) <= set(LABELS), input_columns="labels")
    real = real.shuffle(seed=args.seed).select(range(args.rows))
    rng = random.Random(args.seed)
    truth = [sorted(labels) for labels in real["labels"]]
    noisy = [[rng.choice([n for n in LABELS if n not in t])] if rng.random() < args.noise else t for t in truth]
    data = datasets.Dataset.from_dict({"text": real["text"], "labels": noisy})
    embeddings = EmbeddingCache().embed(data["text"])
    before = scores(noisy, truth)
    results = []
    for k in args.k:
        for strategy in STRATEGIES:
            for repeat in range(args.repeats):
                human = choose_rows(embeddings, k, strategy, seed=args.seed + repeat)
                row = {"k": k, "strategy": strategy, "repeat": repeat, **relabel(data, truth, human)}
                print(row, flush=True)
                results.append(row)
    write_result(args.output, {
        "machine": machine(), "seed": args.seed, "rows": args.rows, "noise": args.noise, "labels": LABELS,
        "multi_label_rows": sum(len(t) > 1 for t in truth), "before": before,
        "summary": mean_by(results, ("k", "strategy"), ("exact", "jaccard")), "results": results,
        "peak_rss_mib": peak_rss_mib(),
    })


if __name__ == "__main__":
    main()
