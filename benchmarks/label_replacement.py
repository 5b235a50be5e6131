"""Label replacement on real data with known corruption: label accuracy before and after, per k human labels.

For each task: `--rows` real train rows; a share `--noise` of their labels is replaced by another label at
random (a misaligned generator); k rows, chosen by each selection strategy (random, diverse) and for each of
`--repeats` seeds, get their true label (the human); the proxy relabels every row, and the human-labelled rows
keep the human label. Accuracy is agreement with the true labels. Writes a JSON result file.

    python benchmarks/label_replacement.py --data ../shared/data --tasks sst2 emotion ag_news
"""

from __future__ import annotations

import argparse
import os
import random
import time

import datasets
import numpy as np
from record import machine, mean_by, peak_rss_mib, write_result

from hf_llmgen.interventions import ProxyRelabeler
from hf_llmgen.interventions.selection import STRATEGIES, choose_rows
from hf_llmgen.metrics.embeddings import EmbeddingCache


def corrupt(labels: list[str], names: list[str], noise: float, rng: random.Random) -> list[str]:
    return [rng.choice([n for n in names if n != t]) if rng.random() < noise else t for t in labels]


def relabel(data: datasets.Dataset, names: list[str], truth: list[str], human: list[int]) -> dict:
    """Accuracy after label replacement with the true labels of the `human` rows; an error when a class
    has too few of them."""
    started = time.perf_counter()
    try:
        relabeler = ProxyRelabeler(names).fit(list(data.select(human)["text"]), [truth[i] for i in human])
    except ValueError as err:
        return {"error": str(err)}
    relabelled = data.map(relabeler, batched=True, batch_size=500, load_from_cache_file=False)
    return {
        "after": float(np.mean([a == b for a, b in zip(relabelled["label"], truth)])),
        "changed": sum(1 for by in relabelled["relabelled_by"] if by),
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--tasks", nargs="+", default=["sst2", "emotion", "ag_news"])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--noise", type=float, default=0.4)
    parser.add_argument("--k", type=int, nargs="+", default=[90, 180])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="selection seeds per strategy and k")
    default_output = os.path.join(os.path.dirname(__file__), "results", "label_replacement.json")
    parser.add_argument("--output", default=default_output)
    args = parser.parse_args()

    results = []
    for task in args.tasks:
        folder = os.path.join(args.data, task)
        split = "train_subset8k" if os.path.exists(os.path.join(folder, "train_subset8k.jsonl")) else "train"
        real = datasets.load_dataset("json", data_files=os.path.join(folder, f"{split}.jsonl"), split="train")
        real = real.shuffle(seed=args.seed).select(range(args.rows))
        names = sorted(real.unique("label"))
        rng = random.Random(args.seed)
        truth = list(real["label"])
        noisy = corrupt(truth, names, args.noise, rng)
        data = real.remove_columns("label").add_column("label", noisy)
        embeddings = EmbeddingCache().embed(data["text"])
        before = float(np.mean([a == b for a, b in zip(noisy, truth)]))
        for k in args.k:
            for strategy in STRATEGIES:
                for repeat in range(args.repeats):
                    human = choose_rows(embeddings, k, strategy, seed=args.seed + repeat)
                    row = {"task": task, "rows": len(truth), "noise": args.noise, "k": k, "strategy": strategy,
                           "repeat": repeat, "before": before, **relabel(data, names, truth, human)}
                    print(row, flush=True)
                    results.append(row)
    write_result(args.output, {"machine": machine(), "seed": args.seed, "weight": 0.3, "summary": mean_by(results, ("task", "k", "strategy"), ("after",)),
                               "results": results, "peak_rss_mib": peak_rss_mib()})


if __name__ == "__main__":
    main()
