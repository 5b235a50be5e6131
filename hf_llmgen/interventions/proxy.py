"""The proxy classifiers' parts: a picklable handle on the embedding cache and a calibrated linear SVM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..metrics.embeddings import EmbeddingCache


class EmbeddingHandle:
    """Embeds texts through an `EmbeddingCache` opened on first use.

    It pickles without the open cache, so `datasets` can fingerprint the transforms holding it and
    `num_proc` workers reopen the cache themselves.
    """

    def __init__(self, model: str | None = None, cache_path: str | None = None) -> None:
        self.model = model
        self.cache_path = cache_path
        self._cache: EmbeddingCache | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._cache is None:
            _one_thread_in_workers()
            self._cache = EmbeddingCache(self.model, self.cache_path)
        return self._cache.embed(list(texts))


def _one_thread_in_workers() -> None:
    """In a `num_proc` worker: one torch thread, since the workers share the cores and torch's OpenMP pool
    does not survive a fork (a forked worker with more threads hangs)."""
    import multiprocess

    if multiprocess.parent_process() is not None:
        import torch

        torch.set_num_threads(1)


def calibrated_svm(smallest_class: int, balanced: bool = False) -> Any:
    """LinearSVC (max_iter=10000) with sigmoid-calibrated probabilities, cross-validated in up to 3 folds.

    smallest_class: rows in the rarest class (at least 2), which bounds the folds.
    balanced: weight classes by inverse frequency (for rare out-of-scope marks).
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(max_iter=10000, random_state=0, class_weight="balanced" if balanced else None)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=min(3, smallest_class))
