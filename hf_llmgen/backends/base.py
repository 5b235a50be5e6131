"""The one backend interface: a batch of chat requests in, completions out, each as soon as it is done."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence


@dataclass(frozen=True)
class Request:
    """One LLM call. `seed` is the request's own seed; `logit_bias` maps token ids to additive biases;
    `frequency_penalty` is taken from a token's logit for each time the completion already holds it (OpenAI's);
    `top_logprobs` > 0 asks for that many of the first answer token's likeliest tokens with their log-probabilities."""

    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    top_p: float
    seed: int
    logit_bias: dict[int, float] = field(default_factory=dict)
    top_logprobs: int = 0
    frequency_penalty: float = 0.0


CHARACTERS_PER_TOKEN = 4  # English text, roughly, for estimates before a server has counted any tokens


def prompt_characters(request: Request) -> int:
    """The length of a request's messages, in characters."""
    return sum(len(message["content"]) for message in request.messages)


@dataclass(frozen=True)
class Completion:
    """What came back. `token_ids` are the generated content tokens (no special or whitespace-only tokens);
    `top_logprobs` the first answer token's likeliest tokens as (token text, log-probability), where asked for."""

    text: str
    token_ids: list[int]
    prompt_tokens: int
    completion_tokens: int
    top_logprobs: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class RequestFailure:
    """A request that failed for good (after its retries): `reason` is a short tag for counting
    (rate_limited, server_error, timeout, connection, http_4xx), `detail` says more."""

    reason: str
    detail: str = ""


class BackendUnavailable(RuntimeError):
    """The backend cannot serve: every request of a round failed, or its engine cannot run on this machine. The
    run stops, keeping the requests already finished."""


class Backend(ABC):
    """An LLM. Constructing one is cheap; the model loads on the first `generate` call."""

    name: str

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Identifies the model's weights, for cache keys; must not need the model loaded or hold a secret."""

    @abstractmethod
    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Completion | RequestFailure]]:
        """Yield (index into `requests`, completion) for every request, in any order, each as it finishes; a
        remote backend yields a `RequestFailure` for a request that failed after its retries."""

    @abstractmethod
    def content_tokens(self, text: str) -> list[int]:
        """The model's token ids of `text` that logit suppression counts: no special or whitespace-only token."""

    def close(self) -> None:
        """Free the model, if one was loaded."""


def answers(backend: Backend, requests: Sequence[Request]) -> list[str]:
    """The text of each request's completion, in the order of `requests`."""
    texts = [""] * len(requests)
    for index, completion in backend.generate(requests):
        if isinstance(completion, RequestFailure):
            raise BackendUnavailable(f"a request failed: {completion.reason} ({completion.detail})")
        texts[index] = completion.text
    return texts


def first_token_logprobs(logprobs: dict[str, Any] | None) -> tuple[tuple[str, float], ...]:
    """(token, log-probability) of the first answer token's likeliest tokens, from an OpenAI-style chat
    choice's `logprobs` (as llama.cpp's server gives it); () when there are none."""
    content = (logprobs or {}).get("content") or []
    if not content:
        return ()
    return tuple((top["token"], float(top["logprob"])) for top in content[0].get("top_logprobs") or [])


class ContentTokens:
    """Keeps the token ids worth counting for logit suppression: not special, not whitespace-only.

    `decode` turns one token id into its text; each id is decoded once and the answer remembered.
    """

    def __init__(self, decode: Callable[[int], str], special: Iterable[int] = ()) -> None:
        self.decode = decode
        self.skip = {token_id: True for token_id in special}

    def __call__(self, token_ids: Iterable[int]) -> list[int]:
        return [token_id for token_id in token_ids if not self._skipped(token_id)]

    def _skipped(self, token_id: int) -> bool:
        if token_id not in self.skip:
            self.skip[token_id] = not self.decode(token_id).strip()
        return self.skip[token_id]
