"""Generation throughput of the embedded engine: the `local` backend through `load_dataset`, against
llama-cpp-python driven directly (one request at a time) and against xllamacpp driven directly (the ceiling).

Every side runs the same requests: those the `load_dataset` run sent, replayed with their prompts, seeds and
token budget. Each side runs in its own process, so its peak memory is its own, and counts from before its
model loads to its last completion. Also: a sweep of slot counts on the engine, and the engine beside
competing processes that keep every core busy, with the thread settings to choose from.

llama-cpp-python is not a dependency of this project; give the Python of an environment that has it, built
with CMAKE_ARGS="-DGGML_NATIVE=OFF" so that it runs on any CPU:

    python benchmarks/local_throughput.py --llama-cpp-python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

from record import machine, markdown_table, peak_rss_mib, write_result

RESULT = os.path.join(os.path.dirname(__file__), "results", "local_throughput.json")


def run_ours(args: argparse.Namespace) -> dict:
    """`load_dataset` with the local backend; the requests it sent are written to `args.requests_file`."""
    import datasets

    import hf_llmgen  # noqa: F401 (registers the builder)
    from hf_llmgen.backends.engine import default_gguf_path, probe_engine
    from hf_llmgen.backends.local import LocalBackend
    from hf_llmgen.builder import generation_summary

    probe_started = time.perf_counter()
    probe_engine(default_gguf_path())  # once per process; timed on its own
    probe_seconds = time.perf_counter() - probe_started
    sent = []
    generate = LocalBackend.generate

    def recording(self, requests):
        sent.append([{"messages": r.messages, "max_tokens": r.max_tokens, "temperature": r.temperature,
                      "top_p": r.top_p, "seed": r.seed} for r in requests])
        return generate(self, requests)

    LocalBackend.generate = recording
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.perf_counter()
        builder = datasets.load_dataset_builder("hf_llmgen", "sst2", cache_dir=cache_dir, seed=0,
                                                num_examples=args.rows, batch_size=args.slots,
                                                max_new_tokens=args.max_tokens)
        builder.download_and_prepare()
        seconds = time.perf_counter() - started
        summary = generation_summary(builder)
    with open(args.requests_file, "w", encoding="utf-8") as f:
        json.dump({"model": default_gguf_path(), "rounds": sent}, f)
    return {"seconds": seconds, "completion_tokens": summary.completion_tokens, "requests": summary.requests,
            "rounds": len(sent), "rows": summary.rows, "probe_seconds": probe_seconds}


def run_llama_cpp_python(args: argparse.Namespace) -> dict:
    """llama-cpp-python, one request after another, with the sampling settings of the local backend."""
    from llama_cpp import Llama

    replay = _replay(args.requests_file)
    started = time.perf_counter()
    llama = Llama(replay["model"], n_ctx=2048, n_threads=args.threads, verbose=False)
    tokens = 0
    for request in (r for batch in replay["rounds"] for r in batch):
        out = llama.create_chat_completion(**request, top_k=0, min_p=0.0)
        tokens += out["usage"]["completion_tokens"]
    return {"seconds": time.perf_counter() - started, "completion_tokens": tokens}


def run_engine(args: argparse.Namespace) -> dict:
    """xllamacpp with the local backend's parameters and request bodies: the requests round by round as the
    run sent them (`--rounds`), or all at once, each on its own thread as the local backend does."""
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from hf_llmgen.backends.base import Request
    from hf_llmgen.backends.engine import engine_parameters, load_xllamacpp
    from hf_llmgen.backends.local import chat_body

    replay = _replay(args.requests_file)
    batches = replay["rounds"] if args.rounds else [[r for batch in replay["rounds"] for r in batch]]
    started = time.perf_counter()
    params = engine_parameters(replay["model"], args.slots, args.threads, secrets.token_hex(8))
    engine = load_xllamacpp().Server(params)
    tokens = 0
    with ThreadPoolExecutor(args.slots) as pool:
        for batch in batches:
            bodies = [chat_body(Request(**request)) for request in batch]
            for answer in pool.map(engine.handle_chat_completions, bodies):
                tokens += answer["usage"]["completion_tokens"]
    return {"seconds": time.perf_counter() - started, "completion_tokens": tokens}


def _replay(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


SIDES = {"ours": run_ours, "llama_cpp_python": run_llama_cpp_python, "engine": run_engine}


def busy() -> None:
    """A competing process: one core kept busy until it is killed."""
    while True:
        pass


def measure(side: str, args: argparse.Namespace, python: str = sys.executable, slots: int | None = None,
            threads: int | None = None, rounds: bool = False, competitors: int = 0,
            env: dict[str, str] | None = None) -> dict:
    """Run one side in a child process (beside `competitors` busy processes); its figures and peak memory."""
    command = [python, __file__, "--child", side, "--requests-file", args.requests_file, "--rows", str(args.rows),
               "--max-tokens", str(args.max_tokens), "--slots", str(slots or args.slots),
               "--threads", str(threads or os.cpu_count())] + (["--rounds"] if rounds else [])
    others = [multiprocessing.Process(target=busy, daemon=True) for _ in range(competitors)]
    for other in others:
        other.start()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})},
                              check=False)
    finally:
        for other in others:
            other.kill()
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["tokens_per_second"] = round(result["completion_tokens"] / result["seconds"], 1)
    one_at_a_time = side == "llama_cpp_python"
    return {"side": side, "slots": 1 if one_at_a_time else slots or args.slots, "threads": threads or os.cpu_count(),
            "in_rounds": side == "ours" or rounds, "competitors": competitors,
            "openmp": " ".join(f"{k}={v}" for k, v in (env or {}).items())
            or ("libgomp default" if one_at_a_time else "GOMP_SPINCOUNT=1000 (ours)"),
            **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llama-cpp-python", required=False, help="Python of an environment with llama-cpp-python")
    parser.add_argument("--rows", type=int, default=96, help="rows the load_dataset run generates")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--slots", type=int, default=16, help="the local backend's slots (batch_size)")
    parser.add_argument("--sweep", default="1,4,8,16,32", help="slot counts for the engine sweep")
    parser.add_argument("--output", default=RESULT)
    parser.add_argument("--child", choices=sorted(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--requests-file", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = SIDES[args.child](args)
        print(json.dumps({**result, "peak_rss_mib": round(peak_rss_mib(), 1)}))
        return

    with tempfile.TemporaryDirectory() as folder:
        args.requests_file = os.path.join(folder, "requests.json")
        ours = measure("ours", args)
        runs = [ours, measure("engine", args, rounds=True)]
        if args.llama_cpp_python:
            runs.append(measure("llama_cpp_python", args, python=args.llama_cpp_python))
        sweep = [measure("engine", args, slots=int(n)) for n in args.sweep.split(",")]
        contention = [measure("engine", args)]
        for threads, env in ((None, None), (None, {"GOMP_SPINCOUNT": "300000"}), (None, {"OMP_WAIT_POLICY": "PASSIVE"}),
                             (1, None)):
            contention.append(measure("engine", args, threads=threads, competitors=os.cpu_count(), env=env))
    by_side = {run["side"]: run for run in runs}
    result = {
        "benchmark": "local backend through load_dataset vs llama-cpp-python direct vs xllamacpp direct",
        "machine": machine(),
        "rows": args.rows, "max_tokens": args.max_tokens, "slots": args.slots,
        "requests": ours["requests"], "rounds": ours["rounds"],
        "speedup_over_llama_cpp_python": round(ours["tokens_per_second"]
                                               / by_side["llama_cpp_python"]["tokens_per_second"], 2)
        if "llama_cpp_python" in by_side else None,
        "overhead_percent_vs_engine_in_rounds": round(
            100 * (1 - ours["tokens_per_second"] / by_side["engine"]["tokens_per_second"]), 1),
        "runs": runs, "slot_sweep": sweep, "contention": contention,
    }
    write_result(args.output, result)
    columns = ("side", "slots", "threads", "in_rounds", "competitors", "openmp", "completion_tokens", "seconds",
               "tokens_per_second", "peak_rss_mib")
    for name in ("runs", "slot_sweep", "contention"):
        print(f"\n{name}\n" + markdown_table(result[name], columns))
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "slot_sweep", "contention")}, indent=2))


if __name__ == "__main__":
    main()
