"""LLM backends behind one interface (`base.Backend`); `make_backend` picks one from the settings."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .base import Backend, BackendUnavailable, Completion, Request, RequestFailure, answers

if TYPE_CHECKING:
    from ..generation.settings import GenerationSettings

BACKENDS = ("local", "transformers", "openai")


def local_threads(settings: "GenerationSettings") -> int | None:
    """llama.cpp threads: all cores (None), shared out among the shards inside a num_proc worker process.

    Every worker taking every core oversubscribes them, and llama.cpp's spinning threads then slow to a crawl.
    """
    import multiprocess

    if multiprocess.parent_process() is None:
        return None
    return max(1, (os.cpu_count() or 1) // settings.num_shards)


def make_backend(settings: "GenerationSettings") -> Backend:
    """The backend named by `settings.backend`; cheap to call, the model loads on first use."""
    if settings.backend == "local":
        from .local import LocalBackend

        return LocalBackend(settings.model, slots=settings.batch_size, threads=local_threads(settings))
    if settings.backend == "transformers":
        from .hf import TransformersBackend

        return TransformersBackend(settings.model, device=settings.device, max_batch=settings.batch_size)
    if settings.backend == "openai":
        from .openai_api import OpenAIBackend

        return OpenAIBackend(
            settings.model, settings.base_url, api=settings.api, api_key_env=settings.api_key_env,
            max_concurrency=settings.max_concurrency, max_retries=settings.max_retries,
            timeout=settings.request_timeout, count_tokens=settings.logit_suppression > 0,
            requests_per_minute=settings.requests_per_minute, tokens_per_minute=settings.tokens_per_minute,
        )
    raise ValueError(f"backend: unknown backend {settings.backend!r}.")


__all__ = ["BACKENDS", "Backend", "BackendUnavailable", "Completion", "Request", "RequestFailure", "answers",
           "make_backend"]
