"""End-to-end `measure` on real texts: embedding time (cold cache) apart from metric time (warm cache).

Measures `--rows` texts of a real train split against its test split, with the packaged all-MiniLM-L6-v2 and
a fresh embedding cache: first the embeddings alone, then `measure` with cosine and with euclidean distance
(each text's embedding now read from the cache). Writes a JSON result file.

    python benchmarks/measure_end_to_end.py --data ../shared/data/emotion --rows 10000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import datasets
from record import machine, peak_rss_mib, write_result

from hf_llmgen.metrics import EmbeddingCache, measure


def timed(step, *args, **kwargs) -> tuple[object, float]:
    start = time.perf_counter()
    value = step(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data", "emotion"))
    parser.add_argument("--rows", type=int, default=10_000)
    default_output = os.path.join(os.path.dirname(__file__), "results", "measure_end_to_end.json")
    parser.add_argument("--output", default=default_output)
    args = parser.parse_args()

    def split(name: str) -> datasets.Dataset:
        return datasets.load_dataset("json", data_files=os.path.join(args.data, f"{name}.jsonl"), split="train")

    dataset = split("train").shuffle(seed=0).select(range(args.rows))
    reference = split("test")
    cache = EmbeddingCache(path=os.path.join(tempfile.mkdtemp(), "embeddings.sqlite"))
    cache.model  # load the model outside the timings
    _, embed_seconds = timed(cache.embed, list(dataset["text"]) + list(reference["text"]))
    runs = {"embedding": {"texts": cache.computed, "seconds": embed_seconds}}
    for metric in ("cosine", "euclidean"):
        result, seconds = timed(measure, dataset, reference, metric=metric, embeddings=cache)
        runs[f"measure_{metric}"] = {"seconds": seconds, "remote_clique": result[f"remote_clique_{metric}"],
                                     "similarity": result[f"similarity_{metric}"]}
    cache.close()
    record = {
        "benchmark": "measure() on real texts, embeddings apart from metrics",
        "machine": machine(),
        "data": args.data, "rows": len(dataset), "reference_rows": len(reference),
        "runs": runs, "peak_rss_mib": peak_rss_mib(),
    }
    write_result(args.output, record)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
