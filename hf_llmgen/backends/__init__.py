"""LLM backends behind one interface (`base.Backend`); `make_backend` picks one from the settings."""

from __future__ import annotations

from ..generation.settings import GenerationSettings
from .base import Backend, Completion, Request


def make_backend(settings: GenerationSettings) -> Backend:
    """The backend named by `settings.backend`; cheap to call, the model loads on first use."""
    if settings.backend == "local":
        from .local import LocalBackend

        return LocalBackend(settings.model)
    if settings.backend == "transformers":
        from .hf import TransformersBackend

        return TransformersBackend(settings.model, device=settings.device)
    raise ValueError(f"backend: unknown backend {settings.backend!r}.")


__all__ = ["Backend", "Completion", "Request", "make_backend"]
