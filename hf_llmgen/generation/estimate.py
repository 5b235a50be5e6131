"""What a run will ask for, before it runs: requests, tokens and, where the model's price is known, cost."""

from __future__ import annotations

import math
from typing import Any

from ..backends.base import CHARACTERS_PER_TOKEN, Request, prompt_characters
from ..backends.engine import CONTEXT_PER_SLOT
from ..task import TaskSpec
from .cost import PRICES_FORMAT, Spending, run_price
from .plan import label_quotas, round_labels
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


LONG_DESCRIPTION_WORDS = 60
PROMPT_SHARE_OF_CONTEXT = 0.5


def unwise_settings(settings: GenerationSettings, task: TaskSpec) -> list[str]:
    """Warnings for values that are legal but cost rows or time, each saying what it costs."""
    notes = []
    if settings.temperature > 1.5:
        notes.append(f"temperature {settings.temperature}: above 1.5 the texts drift off the topic and off the "
                     "label, so the label check drops more of them and the run makes more requests")
    if settings.temperature < 0.3:
        notes.append(f"temperature {settings.temperature}: near-greedy sampling repeats texts, so rows come out "
                     "alike and duplicates are dropped; 0.7 to 1.0 gives varied texts")
    for label in task.labels:
        words = len(label.description.split())
        if words > LONG_DESCRIPTION_WORDS:
            notes.append(f"labels[{label.name}].description: {words} words; every request carries it, and the small "
                         f"models follow a short concrete description (under {LONG_DESCRIPTION_WORDS} words) better")
    if task.label_shares:
        quotas = label_quotas(task.label_names, settings.num_examples, shares=task.label_shares)
        for label in (lb for lb in task.labels if quotas[lb.name] == 0):
            enough = math.ceil(sum(task.label_shares) / label.share)
            notes.append(f"labels[{label.name}].share: gives it no rows of num_examples {settings.num_examples}; "
                         f"num_examples {enough} or more gives it at least one")
    if settings.backend != "local":  # other backends' context lengths are their own
        return notes
    prompt_tokens = estimate_run(settings, task)["prompt_tokens_per_request"]
    if prompt_tokens + settings.max_new_tokens > PROMPT_SHARE_OF_CONTEXT * CONTEXT_PER_SLOT:
        notes.append(f"prompts of about {prompt_tokens} tokens plus max_new_tokens {settings.max_new_tokens} fill "
                     f"over half of a slot's {CONTEXT_PER_SLOT}-token context; fewer examples_per_prompt or shorter "
                     "descriptions make each request faster, and a longer one fails")
    return notes
