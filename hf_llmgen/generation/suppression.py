"""Logit suppression: a token-frequency table over generated tokens, turned into a logit bias.

The diversity paper's recipe: after each round, the N most frequent tokens generated so far get
bias = max(-7.5, -7.5 * share), where share is the token's share of all generated tokens in percent.
`strength` scales the whole bias: 0 turns suppression off, 1 is the paper's recipe. A request leaves its own
label's words (its name and keywords, in every `spellings`) out of the bias: suppression is for the wording
that every label's texts share, not for the words that say which label a text has.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

SPELLINGS = (str.lower, str.capitalize, str.upper)

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


def spellings(phrases: Iterable[str]) -> set[str]:
    """Each word of `phrases` as a model may write it: lower case, capitalised and upper case, each with and
    without a leading space (a word's token differs after a space)."""
    words = {word for phrase in phrases for word in phrase.split()}
    return {prefix + spell(word) for word in words for spell in SPELLINGS for prefix in ("", " ")}
