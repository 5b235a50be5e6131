"""Does the embedded engine give a request the same text whatever runs beside it?

The same 32 requests (sst2 prompts, temperature 0.7, own seeds; and greedy copies) are decoded: one at a time
in a one-slot engine; all at once in 16 slots, twice; again in 16 slots in reverse order, so that each request
has other neighbours and its prompt is already in the prompt cache; and with the prompt cache off. Counts how
many texts equal the one-at-a-time text (and the first batched one, for the repeat).

    python benchmarks/engine_determinism.py
"""

from __future__ import annotations

import argparse
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from record import machine, write_result

RESULT = os.path.join(os.path.dirname(__file__), "results", "engine_determinism.json")


def requests(n: int, temperature: float) -> list:
    from hf_llmgen.backends.base import Request
    from hf_llmgen.generation.prompts import build_messages
    from hf_llmgen.task import load_task

    task = load_task("sst2")
    made = []
    for i in range(n):
        label = task.label_names[i % 2]
        examples = [task.examples[(i + k) % len(task.examples)] for k in range(2)]
        made.append(Request(build_messages(task, "elements", label, examples, 1), 64, temperature, 0.9, 1000 + i))
    return made


def decode(engine, bodies: list[dict], slots: int) -> list[str]:
    with ThreadPoolExecutor(slots) as pool:
        return [answer["choices"][0]["message"]["content"] for answer in pool.map(engine.handle_chat_completions,
                                                                                 bodies)]


def main() -> None:
    from hf_llmgen.backends.engine import default_gguf_path, engine_parameters, load_xllamacpp
    from hf_llmgen.backends.local import chat_body

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--output", default=RESULT)
    args = parser.parse_args()
    xllamacpp = load_xllamacpp()
    model, threads = default_gguf_path(), os.cpu_count()
    result = {"benchmark": "engine determinism", "machine": machine(), "xllamacpp": xllamacpp.__version__,
              "requests": args.requests}
    for name, temperature in (("sampled", 0.7), ("greedy", 0.0)):
        bodies = [chat_body(r) for r in requests(args.requests, temperature)]
        alone_engine = xllamacpp.Server(engine_parameters(model, 1, threads, secrets.token_hex(8)))
        alone = decode(alone_engine, bodies, 1)
        del alone_engine
        batched_engine = xllamacpp.Server(engine_parameters(model, 16, threads, secrets.token_hex(8)))
        batched = decode(batched_engine, bodies, 16)
        again = decode(batched_engine, bodies, 16)
        reverse = decode(batched_engine, bodies[::-1], 16)[::-1]
        uncached = decode(batched_engine, [{**body, "cache_prompt": False} for body in bodies], 16)
        del batched_engine
        result[name] = {
            "same_as_alone_when_batched": sum(a == b for a, b in zip(alone, batched)),
            "same_when_the_same_batch_runs_again": sum(a == b for a, b in zip(batched, again)),
            "same_as_alone_batched_reversed_after_prompt_cache": sum(a == b for a, b in zip(alone, reverse)),
            "same_as_alone_batched_prompt_cache_off": sum(a == b for a, b in zip(alone, uncached)),
        }
        print(name, result[name], flush=True)
    write_result(args.output, result)


if __name__ == "__main__":
    main()
