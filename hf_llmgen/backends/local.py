"""The embedded backend: a GGUF model (default: the packaged SmolLM2-135M) on llama.cpp's native server in this
process (xllamacpp), the requests of a round decoded together in parallel slots."""

from __future__ import annotations

import os
import secrets
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Iterator, Sequence

from ..fingerprint import weights_fingerprint
from .base import Backend, Completion, ContentTokens, Request, RequestFailure, first_token_logprobs
from .engine import DEFAULT_SLOTS, gguf_path, start_engine
from .server_tokenizer import Tokenizer, post_json, server_tokenizer


def chat_body(request: Request) -> dict[str, Any]:
    """The engine's chat-completion request for `request`: its own seed, temperature, top-p, logit bias and
    frequency penalty (llama.cpp counts the last 64 tokens), and the first token's log-probabilities where asked for."""
    logprobs = {"logprobs": True, "top_logprobs": request.top_logprobs} if request.top_logprobs else {}
    return {
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": 0,
        "min_p": 0.0,
        "seed": request.seed,
        "logit_bias": {str(token_id): bias for token_id, bias in request.logit_bias.items()},
        "frequency_penalty": request.frequency_penalty,
        **logprobs,
    }


class LocalBackend(Backend):
    """llama.cpp chat completions, `slots` at once; sampling is temperature and top-p only (top-k and min-p off).

    The engine's HTTP server listens on loopback behind a random key; this backend uses it only for the
    model's own tokenizer.
    """

    name = "local"

    def __init__(self, model: str | None = None, slots: int = DEFAULT_SLOTS, threads: int | None = None) -> None:
        self.model_path = gguf_path(model)
        self.slots = slots
        self.threads = threads or os.cpu_count() or 1
        self._model_id = weights_fingerprint(self.model_path)
        self._key = secrets.token_hex(16)
        self._engine: Any = None
        self._tokenizer: Tokenizer | None = None
        self._content = ContentTokens(lambda token_id: self.tokenizer()[1](token_id))

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def engine(self) -> Any:
        """The xllamacpp server, started on first use."""
        if self._engine is None:
            self._engine = start_engine(self.model_path, self.slots, self.threads, self._key)
        return self._engine

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Completion | RequestFailure]]:
        """All requests go to the engine at once; each is yielded as its slot finishes it. No requests (every one
        served from the request cache) start no engine: one started and closed at once can hang in its shutdown."""
        if not requests:
            return
        engine = self.engine  # started here, once, not by each worker thread
        pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="hf_llmgen-local")
        try:
            pending: dict[Future, int] = {
                pool.submit(engine.handle_chat_completions, chat_body(r)): i for i, r in enumerate(requests)
            }
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield pending.pop(future), self._completion(future.result())
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _completion(self, answer: dict[str, Any]) -> Completion | RequestFailure:
        if "error" in answer:  # e.g. a prompt longer than a slot's context
            error = answer["error"]
            return RequestFailure(str(error.get("type", "engine_error")), str(error.get("message", "")))
        choice = answer["choices"][0]
        text = choice["message"]["content"] or ""
        usage = answer["usage"]
        return Completion(text, self.content_tokens(text), usage["prompt_tokens"], usage["completion_tokens"],
                          first_token_logprobs(choice.get("logprobs")))

    def close(self) -> None:
        self._engine = None  # the server stops when its last reference goes

    def tokenizer(self) -> Tokenizer:
        """(encode, decode one token id) by the engine's own tokenizer, through its loopback server."""
        if self._tokenizer is None:
            self._tokenizer = server_tokenizer(self._post)
            if self._tokenizer is None:
                raise RuntimeError("the embedded engine's server answered no tokenize route.")
        return self._tokenizer

    def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return post_json(self.engine.listening_address + path, body, {"Authorization": f"Bearer {self._key}"}, 60)

    def content_tokens(self, text: str) -> list[int]:
        """Token ids of `text`, leaving out whitespace-only tokens (never suppressed)."""
        return self._content(self.tokenizer()[0](text))
