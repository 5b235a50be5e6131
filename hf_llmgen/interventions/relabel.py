"""Label replacement (the diversity paper's LR): a proxy classifier trained on a few human labels re-scores
every row, and each row takes the label with the highest blend of "was prompted" and proxy confidence."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..metrics.embeddings import EmbeddingCache

MIN_PER_CLASS = 2


def blend_scores(probabilities: np.ndarray, current: np.ndarray, weight: float) -> np.ndarray:
    """weight * [class is the row's current label] + (1 - weight) * proxy probability, per row and class."""
    prompted = np.zeros_like(probabilities)
    prompted[np.arange(len(current)), current] = 1.0
    return weight * prompted + (1.0 - weight) * probabilities


def check_human_labels(labels: Sequence[str], names: Sequence[str]) -> dict[str, int]:
    """Counts per label; raises when a label is unknown or a class has fewer than MIN_PER_CLASS rows."""
    counts = Counter(labels)
    unknown = sorted(set(counts) - set(names))
    if unknown:
        raise ValueError(f"human labels: {unknown} are not dataset labels; use names from {list(names)}.")
    short = {name: counts[name] for name in names if counts[name] < MIN_PER_CLASS}
    if short:
        raise ValueError(
            f"human labels: every class needs at least {MIN_PER_CLASS} labelled rows; these have fewer: {short}. "
            "Label more rows of them."
        )
    return {name: counts[name] for name in names}


class ProxyRelabeler:
    """A batched `Dataset.map` function that replaces labels, fitted on a few human-labelled texts.

    The proxy is one-vs-rest linear SVMs (LinearSVC, max_iter=10000) on sentence embeddings, with
    sigmoid-calibrated probabilities. weight: how much the row's current (prompted) label counts (0.3).
    Adds `prompted_label` (when the dataset has none), `label_score` and `relabelled_by` ("proxy" or "").
    """

    def __init__(
        self,
        names: Sequence[str],
        *,
        weight: float = 0.3,
        text_column: str = "text",
        label_column: str = "label",
        embedding_model: str | None = None,
        embedding_cache_path: str | None = None,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight: must lie in [0, 1], got {weight}.")
        self.names = list(names)
        self.weight = weight
        self.text_column = text_column
        self.label_column = label_column
        self.embedding_model = embedding_model
        self.embedding_cache_path = embedding_cache_path
        self.proxy: Any = None
        self._pid = os.getpid()
        self._cache: EmbeddingCache | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for datasets' fingerprint and num_proc) without the open embedding cache."""
        return {**self.__dict__, "_cache": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """In another process (a `num_proc` worker): one torch thread, since the workers share the cores and
        torch's OpenMP pool does not survive a fork (a forked worker with more threads hangs)."""
        self.__dict__.update(state)
        if os.getpid() != self._pid:
            import torch

            torch.set_num_threads(1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._cache is None:
            self._cache = EmbeddingCache(self.embedding_model, self.embedding_cache_path)
        return self._cache.embed(list(texts))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> ProxyRelabeler:
        """Train the proxy on human-labelled `texts` (labels given as names)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        counts = check_human_labels(labels, self.names)
        folds = min(3, min(counts.values()))
        self.proxy = CalibratedClassifierCV(
            LinearSVC(max_iter=10000, random_state=0), method="sigmoid", cv=folds
        )
        self.proxy.fit(self.embed(texts), [self._index(label) for label in labels])
        return self

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"{self.label_column}: {name!r} is not one of the labels {self.names}.")
        return self.names.index(name)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Proxy probabilities (rows, classes), columns in the order of `names`."""
        if self.proxy is None:
            raise RuntimeError("ProxyRelabeler: call fit(texts, labels) with human labels first.")
        return self.proxy.predict_proba(self.embed(texts))

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        values = batch[self.label_column]
        as_names = bool(values) and isinstance(values[0], str)
        current = np.array([self._index(v) for v in values] if as_names else values, dtype=int)
        scores = blend_scores(self.probabilities(batch[self.text_column]), current, self.weight)
        chosen = scores.argmax(axis=1)
        out = {
            self.label_column: [self.names[i] for i in chosen] if as_names else chosen.tolist(),
            "label_score": scores[np.arange(len(chosen)), chosen].tolist(),
            "relabelled_by": ["proxy" if new != old else "" for new, old in zip(chosen, current)],
        }
        if "prompted_label" not in batch:
            out["prompted_label"] = list(values)
        return out
