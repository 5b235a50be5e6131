"""Attribute configurations for attributed prompts (AttrPrompt): one value per attribute for each request,
random but balanced over the run, so every value gets its share."""

from __future__ import annotations

import random

from ..task import Attribute, TaskSpec


def attribute_column(name: str) -> str:
    """The dataset column holding each row's value of attribute `name`."""
    return f"attribute_{name}"


class AttributeSampler:
    """Draws a configuration {attribute: value} for a label.

    For each (attribute, label) the next value is the one furthest behind its share (weights, or equal
    shares), ties broken at random; so after n draws every value's count is within one of its share of n,
    while the order, and how attributes combine, stays random. Seeded: the same seed gives the same draws.
    """

    def __init__(self, task: TaskSpec, seed: int) -> None:
        self.task = task
        self.rng = random.Random(seed)
        self.counts: dict[tuple[str, str], dict[str, int]] = {}

    def sample(self, label: str) -> dict[str, str]:
        return {attribute.name: self._next(attribute, label) for attribute in self.task.attributes}

    def _next(self, attribute: Attribute, label: str) -> str:
        values, weights = self.task.attribute_values(attribute, label)
        shares = [w / sum(weights) for w in weights] if weights else [1 / len(values)] * len(values)
        counts = self.counts.setdefault((attribute.name, label), dict.fromkeys(values, 0))
        drawn = sum(counts.values()) + 1
        behind = [share * drawn - counts[value] for value, share in zip(values, shares)]
        most = max(behind)
        value = self.rng.choice([v for v, b in zip(values, behind) if b >= most - 1e-9])
        counts[value] += 1
        return value
