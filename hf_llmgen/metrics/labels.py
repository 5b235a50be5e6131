"""The label distribution of a dataset (counts, shares, entropy and imbalance) and its label check's pass rates."""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence


def label_distribution(labels: Sequence[str], names: Sequence[str] | None = None) -> dict:
    """Counts and shares per label (every name in `names`, even when absent), normalised entropy, max/min ratio."""
    counts = Counter(labels)
    names = list(names) if names is not None else sorted(counts)
    total = sum(counts[name] for name in names)
    if total == 0:
        raise ValueError("labels: the dataset has no labelled rows.")
    shares = {name: counts[name] / total for name in names}
    entropy = -sum(p * math.log(p) for p in shares.values() if p > 0)
    present = [counts[name] for name in names if counts[name] > 0]
    return {
        "counts": {name: counts[name] for name in names},
        "shares": shares,
        "normalised_entropy": entropy / math.log(len(names)) if len(names) > 1 else 1.0,
        "imbalance_ratio": max(present) / min(present) if len(present) == len(names) else float("inf"),
    }


def pass_rates(labels: Sequence[str], checked: Sequence[str], names: Sequence[str]) -> dict[str, dict]:
    """Per label: rows with it, how many the label check agreed with (its label equal, or "" for an
    abstention) and their share; `checked` is the checker's label per row."""
    rates = {}
    for name in names:
        verdicts = [verdict for label, verdict in zip(labels, checked) if label == name]
        passed = sum(verdict in (name, "") for verdict in verdicts)
        rates[name] = {"checked": len(verdicts), "passed": passed,
                       "pass_rate": passed / len(verdicts) if verdicts else None}
    return rates
