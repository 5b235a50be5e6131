"""Logit suppression: a token-frequency table over generated tokens, turned into a logit bias.

The diversity paper's recipe: after each round, the N most frequent tokens generated so far get
bias = max(-7.5, -7.5 * share), where share is the token's share of all generated tokens in percent.
`strength` scales the whole bias: 0 turns suppression off, 1 is the paper's recipe.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

MAX_PENALTY = 7.5


class TokenFrequency:
    """Counts of generated token ids, accumulated across rounds."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.total = 0

    def update(self, token_ids: Iterable[int]) -> None:
        ids = list(token_ids)
        self.counts.update(ids)
        self.total += len(ids)

    def logit_bias(self, top_n: int = 100, strength: float = 1.0) -> dict[int, float]:
        """Bias for the `top_n` most frequent tokens, as {token_id: bias <= 0}."""
        if strength <= 0 or top_n <= 0 or self.total == 0:
            return {}
        bias = {}
        for token_id, count in self.counts.most_common(top_n):
            share_percent = 100.0 * count / self.total
            bias[token_id] = round(strength * max(-MAX_PENALTY, -MAX_PENALTY * share_percent), 4)
        return bias
