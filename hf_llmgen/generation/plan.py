"""Deterministic planning: how many rows each label needs, which labels each round asks for, request seeds."""

from __future__ import annotations

import hashlib
import math
import random
from typing import Mapping, Sequence

from ..task import Example

MIN_PASS_RATE = 0.25  # a label is never planned as if fewer than 1 in 4 of its candidates passed


def label_quotas(
    labels: Sequence[str], num_examples: int, shard: int = 0, num_shards: int = 1, shares: Sequence[float] = ()
) -> dict[str, int]:
    """Rows each label needs in this shard: `num_examples` split over labels by their `shares` (empty: evenly;
    largest remainders first, ties to the earlier label), then evenly over shards."""
    weights = list(shares) or [1.0] * len(labels)
    exact = [num_examples * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(labels)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: num_examples - sum(counts)]:
        counts[i] += 1
    return {label: shard_part(n, shard, num_shards) for label, n in zip(labels, counts)}


def shard_part(n: int, shard: int, num_shards: int) -> int:
    """This shard's part of `n` rows split evenly over `num_shards` (the first shards take the remainder)."""
    return n // num_shards + (1 if shard < n % num_shards else 0)


def round_labels(
    need: dict[str, int], texts_per_request: int, batch_size: int, pass_rates: Mapping[str, float] | None = None
) -> list[str]:
    """The label of each request in the next round: as many as the needs call for, at most `batch_size`.

    pass_rates: the share of each label's candidates that passed the label check so far (at least
    `MIN_PASS_RATE` is assumed); a label that passes less gets more requests.
    """
    rates = pass_rates or {}
    wanted = {label: math.ceil(n / (texts_per_request * max(rates.get(label, 1.0), MIN_PASS_RATE)))
              for label, n in need.items() if n > 0}
    plan: list[str] = []
    while wanted and len(plan) < batch_size:
        for label in list(wanted):
            if len(plan) == batch_size:
                break
            plan.append(label)
            wanted[label] -= 1
            if wanted[label] == 0:
                del wanted[label]
    return plan


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from any parts (run seed, shard, round, index), stable across processes and runs."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def add_to_pool(pool: list[Example], example: Example, seen: int, limit: int, rng: random.Random) -> None:
    """Reservoir sampling: after `seen` additions the pool holds a uniform sample of at most `limit` of them."""
    if len(pool) < limit:
        pool.append(example)
        return
    slot = rng.randrange(seen)
    if slot < limit:
        pool[slot] = example


def pick_examples(
    pool: dict[str, list[Example]], label: str, style: str, k: int, rng: random.Random
) -> list[Example]:
    """In-context examples drawn from the pool.

    `elements`: one random example per label (the target label first, then other labels at random),
    at most `k`, shuffled. `direct`, `simple` and `attributes`: up to `k` random examples of the target label.
    """
    if k <= 0:
        return []
    if style != "elements":
        candidates = pool.get(label, [])
        return rng.sample(candidates, min(k, len(candidates)))
    others = [name for name in pool if name != label and pool[name]]
    chosen = ([label] if pool.get(label) else []) + rng.sample(others, len(others))
    examples = [rng.choice(pool[name]) for name in chosen[:k]]
    rng.shuffle(examples)
    return examples
