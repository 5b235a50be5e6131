"""What API requests cost: per-model prices (a built-in table a prices file extends) and the spending of a
run, kept under `max_cost` by pricing each request at its worst case before it is sent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import yaml

from ..backends.base import Completion, Request, prompt_characters
from .settings import GenerationSettings


@dataclass(frozen=True)
class Price:
    """USD per million prompt (`input`) and completion (`output`) tokens."""

    input: float
    output: float

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


# OpenAI's list prices (standard tier, USD per million tokens) when this table was written; they change, so
# check them, and give your own in a prices file.
PRICES: dict[str, Price] = {
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o3": Price(2.00, 8.00),
    "o4-mini": Price(1.10, 4.40),
}

UNCOUNTED_TOKENS_PER_CHARACTER = 0.5  # before the server has counted a prompt: about twice English's
PRICES_FORMAT = "{model: {input: USD per million prompt tokens, output: USD per million completion tokens}}"


def read_prices(prices: str | Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """A prices file (YAML or JSON) or mapping, checked: every model with a number >= 0 for input and output."""
    if isinstance(prices, str):
        if not os.path.isfile(prices):
            raise ValueError(f"prices: no file at {prices!r}; give a YAML or JSON file of {PRICES_FORMAT}.")
        with open(prices, encoding="utf-8") as file:
            try:
                prices = yaml.safe_load(file)
            except yaml.YAMLError as err:
                raise ValueError(f"prices: {prices!r} is not valid YAML or JSON ({err}).") from err
    if not isinstance(prices, Mapping) or not prices:
        raise ValueError(f"prices: expected {PRICES_FORMAT}; got {prices!r}.")
    checked = {}
    for model, price in prices.items():
        ok = isinstance(price, Mapping) and set(price) == {"input", "output"} and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in price.values())
        if not ok:
            raise ValueError(f"prices: {model!r} needs input and output, numbers >= 0 (USD per million tokens); "
                             f"got {price!r}.")
        checked[str(model)] = {"input": float(price["input"]), "output": float(price["output"])}
    return checked


def find_price(model: str, prices: Mapping[str, Mapping[str, float]] | None = None) -> Price | None:
    """The model's price from `prices` (checked by `read_prices`), else the built-in table; a dated snapshot
    (gpt-4o-mini-2024-07-18) takes its model's price. None when neither knows the model."""
    table = {**PRICES, **{name: Price(p["input"], p["output"]) for name, p in (prices or {}).items()}}
    if model in table:
        return table[model]
    snapshots = [name for name in table if model.startswith(name + "-")]
    return table[max(snapshots, key=len)] if snapshots else None


def run_price(settings: GenerationSettings) -> Price | None:
    """The price of the run's model: None for the local backends (no per-token cost) or an unknown model."""
    if settings.backend != "openai":
        return None
    return find_price(settings.model, read_prices(settings.prices) if settings.prices else None)


class Spending:
    """The tokens and cost of the requests a run sends (not those served from the request cache).

    `affordable` prices each request at its worst case: its prompt at the highest tokens-per-character seen so
    far in the server's own counts (UNCOUNTED_TOKENS_PER_CHARACTER before any count), and all of `max_tokens`.
    """

    def __init__(self, price: Price | None, max_cost: float | None = None) -> None:
        self.price = price
        self.max_cost = max_cost
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.tokens_per_character: float | None = None  # the highest the server has reported

    @property
    def cost(self) -> float | None:
        """USD spent so far; None when the model's price is unknown."""
        return self.price.cost(self.prompt_tokens, self.completion_tokens) if self.price else None

    def add(self, request: Request, completion: Completion) -> None:
        """Count a completion that came from the API."""
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        if completion.prompt_tokens:
            seen = completion.prompt_tokens / max(1, prompt_characters(request))
            self.tokens_per_character = max(seen, self.tokens_per_character or 0.0)

    def affordable(self, requests: Sequence[Request]) -> int:
        """How many of `requests`, taken in order, fit in what is left of `max_cost` at their worst case."""
        if self.max_cost is None:
            return len(requests)
        left = self.max_cost - (self.cost or 0.0)
        per_character = self.tokens_per_character or UNCOUNTED_TOKENS_PER_CHARACTER
        for count, request in enumerate(requests):
            left -= self.price.cost(prompt_characters(request) * per_character, request.max_tokens)
            if left < 0:
                return count
        return len(requests)
