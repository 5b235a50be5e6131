"""Lexical diversity: vocabulary size and distinct-n, over lower-cased word tokens."""

from __future__ import annotations

import re
from typing import Iterable

_WORD = re.compile(r"\w+(?:'\w+)?")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, inner apostrophes)."""
    return _WORD.findall(text.lower())


def vocabulary_size(texts: Iterable[str]) -> int:
    """Number of distinct word tokens over all texts."""
    vocabulary: set[str] = set()
    for text in texts:
        vocabulary.update(words(text))
    return len(vocabulary)


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Distinct n-grams over all n-grams, counted within each text (0 when there are none)."""
    if n < 1:
        raise ValueError(f"n: must be >= 1, got {n}.")
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        tokens = words(text)
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0
