"""Label sets for multi-label tasks: which labels each text is asked for, planned for the whole run so that
set sizes follow their shares and every label is used about equally often."""

from __future__ import annotations

import random
from collections import Counter

from ..task import LABEL_SET_SEPARATOR, TaskSpec
from .plan import shard_part


def set_key(labels: tuple[str, ...]) -> str:
    """The key of a label set, as used for quotas, the example pool and the run summary: 'anger + joy'."""
    return LABEL_SET_SEPARATOR.join(labels)


def members(task: TaskSpec, key: str) -> tuple[str, ...]:
    """The labels of a set key (a label name of a single-label task is its own set)."""
    if task.multi_label is None or key in task.label_names:
        return (key,)
    return tuple(key.split(LABEL_SET_SEPARATOR))


def plan_label_sets(task: TaskSpec, num_examples: int, seed: int) -> list[tuple[str, ...]]:
    """`num_examples` label sets, in task label order within each set.

    Sizes: the next size is the one furthest behind its share. Labels: the least used so far, ties broken at
    random; exclusive labels only alone. Seeded: the same seed gives the same plan.
    """
    spec = task.multi_label
    if spec is None:
        raise ValueError("task: label sets are for multi-label tasks; set multi_label in the task.")
    rng = random.Random(seed)
    order = {name: i for i, name in enumerate(task.label_names)}
    shares = [share / sum(spec.shares) for share in spec.shares]
    sizes: Counter = Counter()
    used = Counter({name: 0 for name in task.label_names})
    plan = []
    for drawn in range(1, num_examples + 1):
        size = max(range(1, spec.max_labels + 1), key=lambda k: (shares[k - 1] * drawn - sizes[k], -k))
        sizes[size] += 1
        candidates = [n for n in task.label_names if size == 1 or n not in spec.exclusive]
        chosen = sorted(candidates, key=lambda n: (used[n], rng.random()))[:size]
        used.update(chosen)
        plan.append(tuple(sorted(chosen, key=order.__getitem__)))
    return plan


def set_quotas(task: TaskSpec, num_examples: int, seed: int, shard: int = 0, num_shards: int = 1) -> dict[str, int]:
    """Rows each label set needs in this shard: the run's plan, each set's count split over the shards."""
    counts = Counter(set_key(labels) for labels in plan_label_sets(task, num_examples, seed))
    quotas = {key: shard_part(n, shard, num_shards) for key, n in counts.items()}
    return {key: n for key, n in quotas.items() if n > 0}
