"""Out-of-scope filtering on real data with known out-of-scope rows: share removed, share of in-scope kept.

Two mixes, each `--rows` rows of which a share `--out-share` is out of scope:
- other_domain: emotion texts (in scope) with AG News texts mixed in (another domain);
- no_label: Banking77 texts of 10 intents (in scope) with texts of the other 67 intents (same domain, no label).
k rows, chosen by each selection strategy and for each of `--repeats` seeds, get their true in/out mark (the
human); the filter trained on them keeps or removes every row. Writes a JSON result file.

    python benchmarks/scope_filter.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import os
import time

import datasets
import numpy as np
from record import machine, mean_by, peak_rss_mib, write_result

from hf_llmgen.interventions import ScopeFilter
from hf_llmgen.interventions.selection import STRATEGIES, choose_rows
from hf_llmgen.metrics.embeddings import EmbeddingCache


def _load(data: str, task: str, split: str) -> datasets.Dataset:
    return datasets.load_dataset("json", data_files=os.path.join(data, task, f"{split}.jsonl"), split="train")


def mix(data: str, name: str, rows: int, out_share: float, seed: int) -> datasets.Dataset:
    """`rows` texts with an `in_scope` column, a share `out_share` of them out of scope, shuffled."""
    outside = int(rows * out_share)
    if name == "other_domain":
        inside_rows = _load(data, "emotion", "train").shuffle(seed=seed).select(range(rows - outside))
        outside_rows = _load(data, "ag_news", "train_subset8k").shuffle(seed=seed).select(range(outside))
    else:
        banking = _load(data, "banking77", "train").shuffle(seed=seed)
        kept_intents = set(sorted(banking.unique("label"))[:10])
        inside_rows = banking.filter(lambda label: label in kept_intents, input_columns="label")
        inside_rows = inside_rows.select(range(min(rows - outside, len(inside_rows))))
        outside_rows = banking.filter(lambda label: label not in kept_intents, input_columns="label")
        outside_rows = outside_rows.select(range(outside))
    texts = list(inside_rows["text"]) + list(outside_rows["text"])
    marks = [True] * len(inside_rows) + [False] * len(outside_rows)
    return datasets.Dataset.from_dict({"text": texts, "in_scope": marks}).shuffle(seed=seed)


def run(data: datasets.Dataset, marked: list[int]) -> dict:
    """Share of out-of-scope rows removed and of in-scope rows kept; an error when a side has too few marks."""
    started = time.perf_counter()
    sample = data.select(marked)
    try:
        scope = ScopeFilter().fit(list(sample["text"]), list(sample["in_scope"]))
    except ValueError as err:
        return {"error": str(err)}
    kept = np.array(data.map(scope.score, batched=True, batch_size=500, load_from_cache_file=False)["scope_score"])
    kept = kept >= scope.threshold
    truth = np.array(data["in_scope"])
    return {
        "out_of_scope_removed": float(np.mean(~kept[~truth])),
        "in_scope_kept": float(np.mean(kept[truth])),
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--mixes", nargs="+", default=["other_domain", "no_label"])
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--out-share", type=float, default=0.1)
    parser.add_argument("--k", type=int, nargs="+", default=[90, 180])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    default_output = os.path.join(os.path.dirname(__file__), "results", "scope_filter.json")
    parser.add_argument("--output", default=default_output)
    args = parser.parse_args()

    results = []
    for name in args.mixes:
        data = mix(args.data, name, args.rows, args.out_share, args.seed)
        embeddings = EmbeddingCache().embed(data["text"])
        outside = int(np.sum(~np.array(data["in_scope"])))
        for k in args.k:
            for strategy in STRATEGIES:
                for repeat in range(args.repeats):
                    marked = choose_rows(embeddings, k, strategy, seed=args.seed + repeat)
                    row = {"mix": name, "rows": len(data), "out_of_scope": outside, "k": k, "strategy": strategy,
                           "repeat": repeat, **run(data, marked)}
                    print(row, flush=True)
                    results.append(row)
    summary = mean_by(results, ("mix", "k", "strategy"), ("out_of_scope_removed", "in_scope_kept"))
    write_result(args.output, {"machine": machine(), "seed": args.seed, "summary": summary, "results": results,
                               "peak_rss_mib": peak_rss_mib()})


if __name__ == "__main__":
    main()
