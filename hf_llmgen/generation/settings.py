"""GenerationSettings: every option of a generation run, validated before any model loads.

The builder config and the CLI flags are both made from these fields, so each option has one name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ..backends import BACKENDS
from ..backends.openai_api import APIS, OPENAI_MAX_BIASED_TOKENS, OPENAI_URL
from .label_check import LABEL_CHECKS, LABEL_POLICIES
from .prompts import PROMPT_STYLES


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class GenerationSettings:
    """Options of a generation run; each field's `metadata["help"]` says what it does."""

    task: Optional[Union[str, dict]] = _option(None, "preset name, YAML path or dict")
    num_examples: int = _option(100, "rows to generate, split evenly over labels (or by the labels' shares)")
    seed: int = _option(0, "run seed; every request gets its own seed derived from it")
    backend: str = _option("local", "'local' (embedded llama.cpp), 'transformers' or 'openai' (any OpenAI-compatible API)")
    model: Optional[str] = _option(
        None,
        "GGUF path for 'local' (default: the packaged SmolLM2-135M-Instruct); "
        "a model name, folder or GGUF path for 'transformers'; the served model's name for 'openai'",
    )
    base_url: Optional[str] = _option(
        None, f"'openai': the API's URL (default {OPENAI_URL}); several, comma-separated, share the load"
    )
    api: str = _option("chat", "'openai': 'chat' (/chat/completions) or 'completions' (/completions, one plain prompt)")
    api_key_env: str = _option("OPENAI_API_KEY", "'openai': the environment variable holding the API key")
    max_concurrency: int = _option(8, "'openai': requests in flight at once")
    max_retries: int = _option(6, "'openai': retries of a request (429, 5xx, timeouts, dropped connections)")
    request_timeout: float = _option(120.0, "'openai': seconds before a request times out (then it is retried)")
    requests_per_minute: Optional[float] = _option(None, "'openai': client-side limit on requests started per minute")
    tokens_per_minute: Optional[float] = _option(
        None, "'openai': client-side limit on tokens per minute (prompt characters / 4 + max_new_tokens)"
    )
    max_cost: Optional[float] = _option(
        None, "'openai': USD this run may spend at most (requests served from the request cache cost nothing)"
    )
    prices: Optional[Union[str, dict]] = _option(
        None, "'openai': a YAML/JSON file (or dict) of {model: {input: X, output: Y}}, USD per million tokens, "
        "added to the built-in price table",
    )
    prompt: str = _option(
        "direct",
        "'direct' (a short instruction with the label's meaning, keywords and, where the task has attributes, one "
        "balanced value of each; best measured with small models), "
        "'elements' (the diversity paper's format), 'simple' (class-conditional) or 'attributes' (AttrPrompt: "
        "a balanced random configuration of the task's attributes per request) or 'targeted' (a text of a classifier's "
        "blind spot: the label plus a hypothesis from `targets`; rows only for labels with targets)",
    )
    targets: Optional[Union[str, list]] = _option(
        None, "'targeted' prompt: a hypotheses file (from `hf-llmgen target`, or written by hand) or a list of "
        "{label, hypothesis, mistaken_for, texts}; replaces the task's targets",
    )
    label_check: str = _option(
        "embedding",
        "check of each candidate's label: 'embedding' (similarity to label prototypes), 'proxy' (a classifier "
        "fitted on human_labels), 'llm' (the generator's log-probabilities of the labels as numbered options, up to "
        "9 labels) or 'none'",
    )
    label_policy: str = _option(
        "drop",
        "what happens to a row the check disagrees with: 'keep' (flag it), 'drop' (count it, write it aside, ask "
        "again) or 'relabel' (take the checker's label)",
    )
    human_labels: Optional[Union[str, dict]] = _option(
        None, "'proxy' check: a labels file from `hf-llmgen annotate` (or a dataset folder holding one), or a dict "
        "{text: label}",
    )
    temperature: float = _option(0.7, "sampling temperature; 0 = greedy")
    top_p: float = _option(0.9, "nucleus sampling (top-k and min-p are off)")
    frequency_penalty: float = _option(
        0.0, "taken from a token's logit for each time the completion already holds it (OpenAI's frequency_penalty, "
        "0 to 2): against a completion that loops on a word; 0 = off"
    )
    logit_suppression: float = _option(
        1.0, "logit-suppression strength: 0 = off, 1 = the paper's recipe (measured best with the embedded model)"
    )
    suppression_top_n: int = _option(100, "how many of the most frequent tokens are suppressed")
    examples_per_prompt: int = _option(3, "in-context examples per prompt, drawn from the growing pool")
    texts_per_request: int = _option(1, "texts asked for in one request")
    choices_per_prompt: int = _option(
        1,
        "requests that share one prompt (same examples and attributes, own seeds); 'openai' sends them as one "
        "request with n choices where the server allows it, paying for the prompt once",
    )
    max_new_tokens: int = _option(96, "completion budget per request")
    batch_size: int = _option(8, "requests per round; suppression and the example pool update between rounds")
    min_words: int = _option(3, "shorter candidates are dropped as too short")
    max_requests: Optional[int] = _option(
        None, "request budget per shard (default: 4x what a perfect yield needs, plus one round)"
    )
    num_shards: int = _option(1, "independent shards of the work, for num_proc (each shard dedups on its own)")
    device: Optional[str] = _option(None, "torch device for 'transformers' (default: cuda when present)")

    def validate(self) -> None:
        """Raise ValueError naming the first bad option, the value given and how to fix it."""
        self._require("task", self.task is not None, "give a preset name (e.g. 'sst2'), a YAML path or a dict")
        self._require("seed", _is_int(self.seed), "must be an integer")
        self._require("backend", self.backend in BACKENDS, f"must be one of {BACKENDS}")
        self._require("api", self.api in APIS, f"must be one of {APIS}")
        self._require("prompt", self.prompt in PROMPT_STYLES, f"must be one of {PROMPT_STYLES}")
        self._require("label_check", self.label_check in LABEL_CHECKS, f"must be one of {LABEL_CHECKS}")
        self._require("label_policy", self.label_policy in LABEL_POLICIES, f"must be one of {LABEL_POLICIES}")
        self._require(
            "human_labels", self.label_check != "proxy" or bool(self.human_labels),
            "the 'proxy' label check is fitted on human labels; give a labels file from `hf-llmgen annotate`",
        )
        self._require("temperature", _is_number(self.temperature) and self.temperature >= 0, "must be a number >= 0")
        self._require("frequency_penalty", _is_number(self.frequency_penalty) and 0 <= self.frequency_penalty <= 2,
                      "must be a number from 0 to 2")
        self._require("top_p", _is_number(self.top_p) and 0 < self.top_p <= 1, "must be in (0, 1]")
        self._require(
            "logit_suppression",
            _is_number(self.logit_suppression) and self.logit_suppression >= 0,
            "must be >= 0 (0 = off, 1 = the paper's recipe)",
        )
        for name in ("suppression_top_n", "examples_per_prompt"):
            self._require(name, _is_int(getattr(self, name)) and getattr(self, name) >= 0, "must be an integer >= 0")
        self._require("model", self.backend != "openai" or bool(self.model), "the openai backend needs the model's name")
        self._require(
            "suppression_top_n",
            self.backend != "openai" or self.suppression_top_n <= OPENAI_MAX_BIASED_TOKENS,
            f"the OpenAI API takes at most {OPENAI_MAX_BIASED_TOKENS} biased tokens per request",
        )
        self._require("request_timeout", _is_number(self.request_timeout) and self.request_timeout > 0, "must be > 0")
        self._require("max_retries", _is_int(self.max_retries) and self.max_retries >= 0, "must be an integer >= 0")
        for name in ("requests_per_minute", "tokens_per_minute", "max_cost"):
            value = getattr(self, name)
            self._require(name, value is None or (_is_number(value) and value > 0), "must be > 0, or None for no limit")
        for name in ("num_examples", "texts_per_request", "max_new_tokens", "batch_size", "num_shards", "min_words",
                     "max_concurrency", "choices_per_prompt"):
            self._require(name, _is_int(getattr(self, name)) and getattr(self, name) >= 1, "must be an integer >= 1")
        self._require(
            "max_requests",
            self.max_requests is None or (_is_int(self.max_requests) and self.max_requests >= 1),
            "must be an integer >= 1, or None for the default",
        )

    def _require(self, name: str, ok: bool, fix: str) -> None:
        if not ok:
            raise ValueError(f"{name}: {fix}; got {getattr(self, name)!r}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
