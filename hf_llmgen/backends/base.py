"""The one backend interface: a batch of chat requests in, completions out, each as soon as it is done."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterator, Sequence


@dataclass(frozen=True)
class Request:
    """One LLM call. `seed` is the request's own seed; `logit_bias` maps token ids to additive biases."""

    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    top_p: float
    seed: int
    logit_bias: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    """What came back. `token_ids` are the generated content tokens (no special or whitespace-only tokens)."""

    text: str
    token_ids: list[int]
    prompt_tokens: int
    completion_tokens: int


class Backend(ABC):
    """An LLM. Constructing one is cheap; the model loads on the first `generate` call."""

    name: str

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Identifies the model's weights, for cache keys; must not need the model loaded or hold a secret."""

    @abstractmethod
    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Completion]]:
        """Yield (index into `requests`, completion) for every request, in any order, each as it finishes."""

    def close(self) -> None:
        """Free the model, if one was loaded."""
