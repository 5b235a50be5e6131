"""What a run will ask for, before it runs: requests, tokens and, where the model's price is known, cost."""

from __future__ import annotations

import math
from typing import Any

from ..backends.base import CHARACTERS_PER_TOKEN, Request, prompt_characters
from ..task import TaskSpec
from .cost import PRICES_FORMAT, Spending, run_price
from .plan import round_labels
from .runner import GenerationRun, request_budget, shard_quotas
from .settings import GenerationSettings

def first_requests(settings: GenerationSettings, task: TaskSpec) -> list[Request]:
    """The first round's requests of shard 0, built as the run builds them, without asking any model."""
    run = GenerationRun(settings, task, backend=None, cache=None)
    need = shard_quotas(task, settings, 0)
    return run.requests_for(0, round_labels(need, settings.texts_per_request, settings.batch_size))[0]


def estimate_run(settings: GenerationSettings, task: TaskSpec) -> dict[str, Any]:
    """Requests if every text is kept and at most (the request budget), prompt tokens per request (the first
    round's prompts at about 4 characters a token), and the cost of each at full `max_new_tokens` completions
    (None without a price for the model; at most `max_cost`)."""
    fewest = most = 0
    for shard in range(settings.num_shards):
        need = shard_quotas(task, settings, shard)
        fewest += sum(math.ceil(n / settings.texts_per_request) for n in need.values())
        most += request_budget(settings, need)
    requests = first_requests(settings, task)
    prompt_tokens = round(sum(map(prompt_characters, requests)) / len(requests) / CHARACTERS_PER_TOKEN)
    price = run_price(settings)

    def cost(n_requests: int) -> float | None:
        if price is None:
            return None
        total = price.cost(n_requests * prompt_tokens, n_requests * settings.max_new_tokens)
        return round(min(total, settings.max_cost or total), 6)

    return {
        "requests_if_every_text_is_kept": fewest,
        "requests_at_most": most,
        "prompt_tokens_per_request": prompt_tokens,
        "completion_tokens_per_request_at_most": settings.max_new_tokens,
        "cost_usd_if_every_text_is_kept": cost(fewest),
        "cost_usd_at_most": cost(most),
    }


def check_max_cost(settings: GenerationSettings, task: TaskSpec) -> None:
    """Raise ValueError, before any request, when `max_cost` cannot be kept (a local backend, no price) or
    affords not one request at its worst case."""
    if settings.max_cost is None:
        return
    if settings.backend != "openai":
        raise ValueError("max_cost: only the openai backend is paid per token; leave max_cost unset.")
    price = run_price(settings)
    if price is None:
        raise ValueError(
            f"max_cost: no price is known for the model {settings.model!r}; give one with prices=FILE "
            f"(--prices FILE), a YAML file of {PRICES_FORMAT}."
        )
    spending = Spending(price, settings.max_cost / settings.num_shards)
    if spending.affordable(first_requests(settings, task)) == 0:
        raise ValueError(
            f"max_cost: {settings.max_cost} USD does not cover one request at its worst case (its prompt and all "
            f"{settings.max_new_tokens} max_new_tokens, per shard); raise max_cost."
        )
