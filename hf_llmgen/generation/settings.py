"""GenerationSettings: every option of a generation run, validated before any model loads.

The builder config and the CLI flags are both made from these fields, so each option has one name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from .prompts import PROMPT_STYLES

BACKENDS = ("local", "transformers")


@dataclass
class GenerationSettings:
    """Options of a generation run.

    task: preset name, YAML path or dict (a preset name may also be given as the config name).
    num_examples: rows to generate, balanced over labels.
    seed: run seed; every request gets its own seed derived from it.
    backend: "local" (embedded llama.cpp) or "transformers".
    model: GGUF path for "local" (default: the packaged SmolLM2-135M-Instruct); a model name, folder or
        GGUF path for "transformers".
    prompt: "simple" (class-conditional) or "elements" (the diversity paper's format).
    temperature, top_p: sampling parameters.
    logit_suppression: strength of logit suppression; 0 = off, 1 = the paper's recipe.
    suppression_top_n: how many of the most frequent tokens are suppressed.
    examples_per_prompt: in-context examples per prompt, drawn from the growing pool.
    texts_per_request: texts asked for in one request.
    max_new_tokens: completion budget per request.
    batch_size: requests per round; suppression and the example pool update between rounds.
    min_words: shorter candidates are dropped as too short.
    max_requests: stop after this many requests per shard (default: 4x what a perfect yield needs, + 1 round).
    num_shards: independent shards of the work, for `num_proc` (each shard dedups on its own).
    device: torch device for "transformers" ("cuda", "cpu"; default: cuda when present).
    """

    task: Optional[Union[str, dict]] = None
    num_examples: int = 100
    seed: int = 0
    backend: str = "local"
    model: Optional[str] = None
    prompt: str = "elements"
    temperature: float = 0.7
    top_p: float = 0.9
    logit_suppression: float = 0.0
    suppression_top_n: int = 100
    examples_per_prompt: int = 3
    texts_per_request: int = 1
    max_new_tokens: int = 96
    batch_size: int = 8
    min_words: int = 3
    max_requests: Optional[int] = None
    num_shards: int = 1
    device: Optional[str] = None

    def validate(self) -> None:
        """Raise ValueError naming the first bad option and how to fix it."""
        _check(self.task is not None, "task", "give a preset name (e.g. 'sst2'), a YAML path or a dict")
        _check(_is_int(self.num_examples) and self.num_examples >= 1, "num_examples", "must be an integer >= 1")
        _check(_is_int(self.seed), "seed", "must be an integer")
        _check(self.backend in BACKENDS, "backend", f"must be one of {BACKENDS}")
        _check(self.prompt in PROMPT_STYLES, "prompt", f"must be one of {PROMPT_STYLES}")
        _check(_is_number(self.temperature) and self.temperature >= 0, "temperature", "must be a number >= 0")
        _check(_is_number(self.top_p) and 0 < self.top_p <= 1, "top_p", "must be in (0, 1]")
        _check(
            _is_number(self.logit_suppression) and self.logit_suppression >= 0,
            "logit_suppression",
            "must be >= 0 (0 = off, 1 = the paper's recipe)",
        )
        for name in ("suppression_top_n", "examples_per_prompt"):
            _check(_is_int(getattr(self, name)) and getattr(self, name) >= 0, name, "must be an integer >= 0")
        for name in ("texts_per_request", "max_new_tokens", "batch_size", "num_shards"):
            _check(_is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "must be an integer >= 1")
        _check(_is_int(self.min_words) and self.min_words >= 1, "min_words", "must be an integer >= 1")
        _check(
            self.max_requests is None or (_is_int(self.max_requests) and self.max_requests >= 1),
            "max_requests",
            "must be an integer >= 1, or None for the default",
        )


def _check(ok: bool, name: str, fix: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {fix}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
