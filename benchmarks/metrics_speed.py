"""Remote-clique diversity and similarity on random 384-dim embeddings: hf_llmgen's exact methods vs sklearn.

The naive side materialises `pairwise_distances` (n x n), so it runs only while that matrix fits in
`--naive-limit-gib`. Euclidean is exact O(n^2 d) work; it runs up to `--euclidean-max` rows. Each measurement
runs in its own process, so its peak memory is its own. Writes a JSON result file.

    python benchmarks/metrics_speed.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from record import machine, peak_rss_mib, write_result


def data(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 384), dtype=np.float32)


def child(method: str, metric: str, n: int) -> None:
    x, ref = data(n, 0), data(min(n, 10_000), 1)
    start = time.perf_counter()
    if method == "ours":
        from hf_llmgen.metrics import remote_clique, similarity

        diversity, close = remote_clique(x, metric), similarity(x, ref, metric)
    else:
        from sklearn.metrics import pairwise_distances

        d = pairwise_distances(x, metric=metric)
        diversity = float(d.sum() / (n * (n - 1)))
        del d
        cross = float(pairwise_distances(x, ref, metric=metric).mean())
        close = 1 - cross if metric == "cosine" else 1 / (1 + cross)
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    inputs = (x.nbytes + ref.nbytes) / 2**20
    print(json.dumps({"remote_clique": diversity, "similarity": close, "seconds": seconds, "peak_rss_mib": peak,
                      "input_mib": inputs}))


def measure(method: str, metric: str, n: int) -> dict:
    cmd = [sys.executable, __file__, "--child", method, metric, str(n)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-limit-gib", type=float, default=4.0)
    parser.add_argument("--euclidean-max", type=int, default=100_000)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results", "metrics_speed.json"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))

    rows = []
    for n in args.sizes:
        for metric in ("cosine", "euclidean"):
            row: dict = {"n": n, "metric": metric}
            if metric == "euclidean" and n > args.euclidean_max:
                row["ours"] = f"not run: exact O(n^2 d) work, over --euclidean-max {args.euclidean_max}"
            else:
                row["ours"] = measure("ours", metric, n)
            if 8 * n * n / 2**30 <= args.naive_limit_gib:
                row["sklearn"] = measure("sklearn", metric, n)
                if isinstance(row["ours"], dict):
                    row["max_abs_difference"] = max(
                        abs(row["ours"][k] - row["sklearn"][k]) for k in ("remote_clique", "similarity")
                    )
            else:
                row["sklearn"] = f"not run: the n x n matrix needs {8 * n * n / 2**30:.0f} GiB"
            print(json.dumps(row), flush=True)
            rows.append(row)
    result = {
        "benchmark": "remote-clique + similarity (reference set of min(n, 10k) rows), 384-dim float32",
        "machine": machine(),
        "rows": rows,
    }
    write_result(args.output, result)


if __name__ == "__main__":
    main()
