"""Generation throughput: the `local` backend (with the request cache) vs llama-cpp-python driven directly.

Both sides get the same prompts, seeds, sampling parameters and token budget, on the packaged
SmolLM2-135M-Instruct GGUF. Each side runs in its own process (so peak memory is its own); the sides
alternate for `--repeats` rounds to spread machine noise evenly. Writes a JSON result file.

    python benchmarks/local_throughput.py --requests 24 --max-tokens 64 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from record import machine, peak_rss_mib, write_result


def build_requests(n: int, max_tokens: int):
    from hf_llmgen.backends.base import Request
    from hf_llmgen.generation.plan import derive_seed
    from hf_llmgen.generation.prompts import build_messages
    from hf_llmgen.task import load_task

    task = load_task("sst2")
    requests = []
    for i in range(n):
        label = task.label_names[i % 2]
        examples = [task.examples[(i + k) % len(task.examples)] for k in range(2)]
        messages = build_messages(task, "elements", label, examples, 1)
        requests.append(Request(messages, max_tokens, 0.7, 0.9, derive_seed("bench", i)))
    return requests


def run_direct(requests) -> tuple[list[str], int]:
    """llama-cpp-python itself, with the same sampling settings the local backend uses."""
    from llama_cpp import Llama

    from hf_llmgen.backends.engine import default_gguf_path

    llama = Llama(default_gguf_path(), n_ctx=4096, n_threads=os.cpu_count(), verbose=False)
    texts, tokens = [], 0
    for r in requests:
        out = llama.create_chat_completion(
            messages=r.messages, max_tokens=r.max_tokens, temperature=r.temperature, top_p=r.top_p,
            top_k=0, min_p=0.0, seed=r.seed,
        )
        texts.append(out["choices"][0]["message"]["content"])
        tokens += out["usage"]["completion_tokens"]
    llama.close()
    return texts, tokens


def run_ours(requests) -> tuple[list[str], int]:
    """The local backend as a generation run uses it: generate, then store each completion in the cache."""
    from hf_llmgen.backends.local import LocalBackend
    from hf_llmgen.generation.cache import RequestCache, request_key

    backend = LocalBackend()
    with tempfile.TemporaryDirectory() as folder:
        cache = RequestCache(os.path.join(folder, "requests.sqlite"))
        texts, tokens = [""] * len(requests), 0
        for i, completion in backend.generate(requests):
            cache.put(request_key(backend.name, backend.model_id, requests[i]), completion)
            texts[i] = completion.text
            tokens += completion.completion_tokens
        cache.close()
    backend.close()
    return texts, tokens


def child(mode: str, n: int, max_tokens: int) -> None:
    requests = build_requests(n, max_tokens)
    start = time.perf_counter()
    texts, tokens = (run_direct if mode == "direct" else run_ours)(requests)
    seconds = time.perf_counter() - start
    peak_mib = peak_rss_mib()
    print(json.dumps({"mode": mode, "seconds": seconds, "tokens": tokens, "peak_rss_mib": peak_mib, "texts": texts}))


def measure(mode: str, n: int, max_tokens: int) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--requests", str(n), "--max-tokens", str(max_tokens)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results", "local_throughput.json"))
    parser.add_argument("--child", choices=("direct", "ours"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.requests, args.max_tokens)

    runs: dict[str, list[dict]] = {"direct": [], "ours": []}
    for _ in range(args.repeats):
        for mode in ("direct", "ours"):
            runs[mode].append(measure(mode, args.requests, args.max_tokens))
    summary = {}
    for mode, results in runs.items():
        tokens = sum(r["tokens"] for r in results)
        seconds = sum(r["seconds"] for r in results)
        summary[mode] = {
            "tokens_per_second": round(tokens / seconds, 2),
            "seconds_per_run": [round(r["seconds"], 3) for r in results],
            "completion_tokens_per_run": results[0]["tokens"],
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in results), 1),
        }
    overhead = 100 * (1 - summary["ours"]["tokens_per_second"] / summary["direct"]["tokens_per_second"])
    result = {
        "benchmark": "local backend vs llama-cpp-python direct",
        "requests": args.requests,
        "max_tokens": args.max_tokens,
        "repeats": args.repeats,
        "identical_outputs": runs["direct"][0]["texts"] == runs["ours"][0]["texts"],
        "overhead_percent": round(overhead, 2),
        "machine": machine(),
        **summary,
    }
    write_result(args.output, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
