"""Client overhead and throughput against one OpenAI-compatible server: the `openai` backend vs plain
sequential `openai` calls vs distilabel's OpenAILLM.

One llama.cpp server (`python -m hf_llmgen.serve`) on loopback serves the packaged SmolLM2-135M-Instruct GGUF
to all three. Every client gets the same chat prompts, max_tokens, temperature and top_p; ours and the plain calls also send the same seeds
(distilabel sends none per request). Each client runs in its own process, so its CPU time and peak memory are
its own (setup and imports are not timed), and the clients take turns for `--repeats` rounds to spread machine
noise evenly. Two settings: the server directly, and through a proxy that holds each request `--latency`
seconds first, as a distant API's network and queue would. distilabel is not a
dependency of hf_llmgen: give a Python that has it (a venv made with --system-site-packages, so that it shares
the same `openai`):

    python -m venv --system-site-packages .bench && .bench/bin/pip install "distilabel[openai]"
    python benchmarks/openai_client.py --distilabel-python .bench/bin/python --requests 48 --repeats 3
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Callable

from record import machine, markdown_table, mean_by, peak_rss_mib, write_result

MODEL = "smollm2"
CLIENTS = ("hf_llmgen", "openai_sequential", "distilabel")


def build_prompts(n: int) -> list[dict]:
    """`n` generation prompts of the sst2 task, as a first round of a run builds them, each with its seed."""
    from hf_llmgen.generation.plan import derive_seed
    from hf_llmgen.generation.prompts import build_messages
    from hf_llmgen.task import load_task

    task = load_task("sst2")
    prompts = []
    for i in range(n):
        examples = [task.examples[(i + k) % len(task.examples)] for k in range(2)]
        messages = build_messages(task, "elements", task.label_names[i % 2], examples, 1)
        prompts.append({"messages": messages, "seed": derive_seed("bench", i)})
    return prompts


Run = Callable[[], "tuple[int, int]"]  # one pass over the prompts: (completion tokens, failed requests)


def hf_llmgen_client(prompts: list[dict], url: str, max_tokens: int, concurrency: int, folder: str) -> Run:
    """The openai backend as a run uses it: concurrent requests, each completion stored in the request cache."""
    import openai  # noqa: F401 (the backend imports it on first use: imported here, outside the timing, like the others)

    from hf_llmgen.backends import Request, RequestFailure
    from hf_llmgen.backends.openai_api import OpenAIBackend
    from hf_llmgen.generation.cache import RequestCache, request_key

    backend = OpenAIBackend(MODEL, url, max_concurrency=concurrency)
    requests = [Request(p["messages"], max_tokens, 0.7, 0.9, p["seed"]) for p in prompts]
    cache = RequestCache(os.path.join(folder, "requests.sqlite"))

    def run() -> tuple[int, int]:
        tokens = failed = 0
        for index, outcome in backend.generate(requests):
            if isinstance(outcome, RequestFailure):
                failed += 1
                continue
            cache.put(request_key(backend.name, backend.model_id, requests[index]), outcome)
            tokens += outcome.completion_tokens
        return tokens, failed

    return run


def openai_sequential_client(prompts: list[dict], url: str, max_tokens: int, concurrency: int, folder: str) -> Run:
    """The plain `openai` client, one request after another."""
    import openai

    client = openai.OpenAI(base_url=url, api_key="none")

    def run() -> tuple[int, int]:
        tokens = 0
        for p in prompts:
            response = client.chat.completions.create(model=MODEL, messages=p["messages"], max_tokens=max_tokens,
                                                      temperature=0.7, top_p=0.9, seed=p["seed"])
            tokens += response.usage.completion_tokens
        return tokens, 0

    return run


def distilabel_client(prompts: list[dict], url: str, max_tokens: int, concurrency: int, folder: str) -> Run:
    """distilabel's OpenAILLM.generate over all prompts (its own asyncio concurrency)."""
    from distilabel.models import OpenAILLM

    llm = OpenAILLM(model=MODEL, base_url=url, api_key="none")
    llm.load()

    def run() -> tuple[int, int]:
        outputs = llm.generate(inputs=[p["messages"] for p in prompts], num_generations=1,
                               max_new_tokens=max_tokens, temperature=0.7, top_p=0.9)
        tokens = sum(sum(o["statistics"]["output_tokens"]) for o in outputs)
        return tokens, sum(1 for o in outputs for g in o["generations"] if g is None)

    return run


def client_main(args: argparse.Namespace) -> None:
    """Set one client up, run it once over the prompts (timed), and print its figures as JSON."""
    with open(args.prompts, encoding="utf-8") as f:
        prompts = json.load(f)
    make = {"hf_llmgen": hf_llmgen_client, "openai_sequential": openai_sequential_client,
            "distilabel": distilabel_client}[args.client]
    with tempfile.TemporaryDirectory() as folder:
        run = make(prompts, args.url, args.max_tokens, args.concurrency, folder)
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        tokens, failed = run()
        seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({
        "seconds": seconds, "requests_per_second": len(prompts) / seconds, "completion_tokens": tokens,
        "tokens_per_second": tokens / seconds, "client_cpu_ms_per_request": 1000 * cpu / len(prompts),
        "failed": failed, "peak_rss_mib": peak_rss_mib(),
    }))


class LatencyProxy:
    """Forwards every request to the server after `delay` seconds, as a distant API's network and queue would
    add; requests wait side by side, so a client with several in flight overlaps the waits."""

    def __init__(self, upstream: str, delay: float) -> None:
        proxy_upstream = upstream

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                forward = urllib.request.Request(proxy_upstream + self.path, data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(forward) as answer:
                    reply = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "hf_llmgen.serve", "--alias", MODEL, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("hf_llmgen.serve did not start in 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8, help="hf_llmgen's max_concurrency")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--latency", type=float, default=0.5,
                        help="seconds a proxy adds to each request in the second setting (a distant API)")
    parser.add_argument("--distilabel-python", required=True, help="a Python that can import distilabel")
    parser.add_argument("--output", default="benchmarks/results/openai_client.json")
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client_main(args)

    server = start_server(args.port)
    direct = f"http://127.0.0.1:{args.port}"
    remote = LatencyProxy(direct, args.latency)
    runs = []
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(build_prompts(args.requests), f)
        for repeat in range(args.repeats):
            for latency, root in ((0.0, direct), (args.latency, remote.root)):
                for client in CLIENTS:
                    python = args.distilabel_python if client == "distilabel" else sys.executable
                    command = [python, os.path.abspath(__file__), "--client", client, "--prompts", f.name,
                               "--url", root + "/v1", "--max-tokens", str(args.max_tokens), "--concurrency",
                               str(args.concurrency), "--distilabel-python", args.distilabel_python]
                    done = subprocess.run(command, capture_output=True, text=True, check=True)
                    figures = json.loads(done.stdout.strip().splitlines()[-1])
                    runs.append({"client": client, "added_latency_s": latency, "repeat": repeat, **figures})
                    print(runs[-1], flush=True)
    finally:
        remote.server.shutdown()
        server.kill()
        os.unlink(f.name)
    values = ("seconds", "requests_per_second", "tokens_per_second", "client_cpu_ms_per_request", "peak_rss_mib",
              "completion_tokens", "failed")
    summary = mean_by(runs, ("added_latency_s", "client"), values)
    write_result(args.output, {
        "machine": machine(), "server": "hf_llmgen.serve (llama.cpp native server, 8 slots), packaged SmolLM2-135M-Instruct Q4_1 GGUF, loopback",
        "requests": args.requests, "max_tokens": args.max_tokens, "concurrency": args.concurrency,
        "added_latency_s": args.latency,
        "repeats": args.repeats, "summary": summary, "runs": runs,
    })
    print(markdown_table(summary, ("added_latency_s", "client") + tuple(f"mean_{v}" for v in values)))


if __name__ == "__main__":
    main()
