"""Out-of-scope filtering (the diversity paper's OOSF): a proxy trained on human in/out-of-scope marks
keeps the rows that fit the task, as a batched `Dataset.filter` function; `split` also keeps the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import datasets
import numpy as np

from .proxy import EmbeddingHandle, calibrated_svm

MIN_PER_SIDE = 2


class ScopeFilter:
    """Keeps rows whose in-scope probability is at least `threshold`.

    The proxy is a binary LinearSVC on sentence embeddings, classes weighted by frequency (out-of-scope
    marks are usually few), with sigmoid-calibrated probabilities. A text a person marked keeps its mark
    (probability 1 or 0).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        text_column: str = "text",
        embedding_model: str | None = None,
        embedding_cache_path: str | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold: must lie in (0, 1), got {threshold}.")
        self.threshold = threshold
        self.text_column = text_column
        self.embed = EmbeddingHandle(embedding_model, embedding_cache_path)
        self.proxy: Any = None
        self.marks: dict[str, bool] = {}

    def fit(self, texts: Sequence[str], in_scope: Sequence[bool]) -> ScopeFilter:
        """Train on human marks: True where a text fits the task, False where it is out of scope."""
        if len(texts) != len(in_scope):
            raise ValueError(f"in_scope: one mark per text needed, got {len(in_scope)} for {len(texts)} texts.")
        inside = sum(bool(mark) for mark in in_scope)
        outside = len(in_scope) - inside
        if min(inside, outside) < MIN_PER_SIDE:
            raise ValueError(
                f"scope marks: need at least {MIN_PER_SIDE} in-scope and {MIN_PER_SIDE} out-of-scope rows, "
                f"got {inside} in and {outside} out. Mark more rows."
            )
        self.proxy = calibrated_svm(min(inside, outside), balanced=True)
        self.proxy.fit(self.embed(texts), [bool(mark) for mark in in_scope])
        self.marks = {text: bool(mark) for text, mark in zip(texts, in_scope)}
        return self

    def in_scope_probability(self, texts: Sequence[str]) -> np.ndarray:
        if self.proxy is None:
            raise RuntimeError("ScopeFilter: call fit(texts, in_scope) with human marks first.")
        probability = self.proxy.predict_proba(self.embed(texts))[:, list(self.proxy.classes_).index(True)]
        for row, text in enumerate(texts):
            if text in self.marks:
                probability[row] = float(self.marks[text])
        return probability

    def __call__(self, batch: dict[str, list]) -> list[bool]:
        return (self.in_scope_probability(batch[self.text_column]) >= self.threshold).tolist()

    def score(self, batch: dict[str, list]) -> dict[str, list]:
        """A batched map function adding `scope_score`, the in-scope probability."""
        return {"scope_score": self.in_scope_probability(batch[self.text_column]).tolist()}

    def split(self, dataset: datasets.Dataset, **map_kwargs: Any) -> datasets.DatasetDict:
        """`kept` and `removed` rows, each with its `scope_score`; map_kwargs go to `Dataset.map`."""
        return split_by_score(dataset, self.score, self.threshold, **map_kwargs)


def split_by_score(
    dataset: datasets.Dataset, score: Callable[[dict[str, list]], dict[str, list]], threshold: float, **map_kwargs: Any
) -> datasets.DatasetDict:
    """Rows whose `scope_score` (added by the batched map function `score`) is at least `threshold` are
    `kept`, the others `removed`; both keep the score."""
    scored = dataset.map(score, batched=True, **map_kwargs)
    return datasets.DatasetDict(
        kept=scored.filter(lambda s: [v >= threshold for v in s], input_columns="scope_score", batched=True),
        removed=scored.filter(lambda s: [v < threshold for v in s], input_columns="scope_score", batched=True),
    )
