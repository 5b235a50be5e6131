"""SimPrompt vs AttrPrompt on the same task and the same number of requests: vocabulary size, diversity
(average pairwise similarity, remote clique) and the accuracy on the real test split of a classifier trained
on each generated set.

Both sets are generated with the embedded model from the task's preset (its hand-written attributes for
AttrPrompt), the same seed, temperature and `--requests` requests (one text each); the classifier is the
packaged all-MiniLM-L6-v2 with a new head, fine-tuned on each set alone. Writes JSON and prints a table.

    python benchmarks/attrprompt.py --data ../shared/data --tasks ag_news sst2 --requests 120
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import datasets
from record import machine, markdown_table, peak_rss_mib, write_result

import hf_llmgen  # noqa: F401  (registers the builder)
from hf_llmgen.metrics import EmbeddingCache, measure
from hf_llmgen.train import train_classifier

COLUMNS = ("rows", "vocabulary_size", "average_pairwise_similarity", "remote_clique_cosine", "similarity_cosine",
           "downstream_accuracy", "seconds")
PROMPTS = {"SimPrompt": "simple", "AttrPrompt": "attributes"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--tasks", nargs="+", default=["ag_news", "sst2"])
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=float, default=10.0, help="epochs of the downstream classifier")
    default_output = os.path.join(os.path.dirname(__file__), "results", "attrprompt.json")
    parser.add_argument("--output", default=default_output)
    args = parser.parse_args()

    cache = EmbeddingCache()
    work = tempfile.mkdtemp(prefix="hf_llmgen_bench_")
    results = []
    for task in args.tasks:
        test = datasets.load_dataset("json", data_files=os.path.join(args.data, task, "test.jsonl"), split="train")
        for name, prompt in PROMPTS.items():
            started = time.perf_counter()
            data = datasets.load_dataset(
                "hf_llmgen", task, split="train", num_examples=10 * args.requests, max_requests=args.requests,
                seed=args.seed, prompt=prompt, examples_per_prompt=0,
            )
            seconds = time.perf_counter() - started
            data = data.select_columns(["text", "label"])
            result = measure(data, test, embeddings=cache)
            _, downstream = train_classifier(
                data, os.path.join(work, task, prompt), eval_dataset=test, epochs=args.epochs, learning_rate=1e-4
            )
            row = {"task": task, "prompt": name, "requests": args.requests, "rows": len(data), "seconds": seconds,
                   "downstream_accuracy": downstream["eval_accuracy"],
                   **{c: result[c] for c in COLUMNS if c in result}}
            print(row, flush=True)
            results.append(row)
    cache.close()
    write_result(args.output, {"machine": machine(), "seed": args.seed, "reference": "each task's real test split",
                               "downstream_epochs": args.epochs, "results": results, "peak_rss_mib": peak_rss_mib()})
    print(markdown_table(results, ("task", "prompt", *COLUMNS)))


if __name__ == "__main__":
    main()
