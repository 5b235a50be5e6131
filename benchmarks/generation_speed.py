"""Generation speed by backend and device: sst2 rows through `load_dataset` with the packaged SmolLM2-135M-Instruct
(`local`: its GGUF file on the embedded llama.cpp engine; `transformers`: the same file dequantised by
transformers, on the CPU in float32 or on CUDA in bfloat16), at several `batch_size`s.

Each run records its time (model load included), requests, completion tokens, rows kept, the drops by reason,
the label check's pass rate, the process's peak resident memory so far and, on CUDA, the peak memory torch
allocated. Every run starts from an empty cache, so each makes all its requests. Results are appended to the
output file, one entry per run, so runs made on different machines sit together:

    python benchmarks/generation_speed.py --backend local --batch-sizes 8
    python benchmarks/generation_speed.py --backend transformers --device cpu --batch-sizes 8
    python benchmarks/generation_speed.py --backend transformers --device cuda --batch-sizes 16 64
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from record import commit, machine, peak_rss_mib, write_result

RESULT = os.path.join(os.path.dirname(__file__), "results", "generation_speed.json")


def run(backend: str, device: str, rows: int, batch_size: int) -> dict:
    """One `load_dataset` run of `rows` sst2 rows with `backend` (on `device`) in rounds of `batch_size` requests."""
    import datasets
    import torch

    import hf_llmgen  # noqa: F401 (registers the builder)
    from hf_llmgen.builder import generation_summary

    cuda = backend == "transformers" and device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    options = {"device": device} if backend == "transformers" else {}
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.perf_counter()
        builder = datasets.load_dataset_builder("hf_llmgen", "sst2", cache_dir=cache_dir, seed=0, num_examples=rows,
                                                backend=backend, batch_size=batch_size, **options)
        builder.download_and_prepare()
        seconds = time.perf_counter() - started
        summary = generation_summary(builder)
    checked, passed = sum(summary.checked.values()), sum(summary.passed.values())
    return {"backend": backend, "device": torch.cuda.get_device_name(device) if cuda else "cpu",
            "batch_size": batch_size, "rows": summary.rows, "requests": summary.requests,
            "completion_tokens": summary.completion_tokens, "candidates": summary.candidates,
            "dropped": dict(summary.dropped),
            "label_check_pass_rate": round(passed / checked, 3) if checked else None,
            "seconds": round(seconds, 1), "rows_per_second": round(summary.rows / seconds, 3),
            "tokens_per_second": round(summary.completion_tokens / seconds, 1), "peak_rss_mib": round(peak_rss_mib()),
            "peak_gpu_mib": round(torch.cuda.max_memory_allocated(device) / 2**20) if cuda else None}


def main() -> None:
    import torch
    import transformers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("local", "transformers"), default="local")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="torch device of the transformers backend")
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[8])
    parser.add_argument("--commit", default=None, help="the commit to record where the tree has no .git folder")
    parser.add_argument("--output", default=RESULT)
    args = parser.parse_args()
    result = {"benchmark": "generation speed by backend and device", "runs": []}
    if os.path.exists(args.output):
        with open(args.output, encoding="utf-8") as f:
            result = json.load(f)
    for batch_size in args.batch_sizes:
        entry = run(args.backend, args.device, args.rows, batch_size)
        entry.update(machine=machine(), torch=torch.__version__, transformers=transformers.__version__,
                     commit=args.commit or commit())
        print(json.dumps(entry), flush=True)
        result["runs"].append(entry)
        write_result(args.output, result)


if __name__ == "__main__":
    main()
