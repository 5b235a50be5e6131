"""Label replacement for multi-label rows: one proxy per label, and each label kept where its blended score
reaches a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .proxy import EmbeddingHandle, calibrated_svm
from .relabel import MIN_PER_CLASS, blend_scores


def check_label_sets(label_sets: Sequence[Sequence[str]], names: Sequence[str]) -> dict[str, int]:
    """Rows having each label; raises when a label is unknown, or when a label is on fewer than MIN_PER_CLASS
    rows or missing from fewer than MIN_PER_CLASS rows (its proxy needs both)."""
    unknown = sorted({label for labels in label_sets for label in labels} - set(names))
    if unknown:
        raise ValueError(f"human labels: {unknown} are not dataset labels; use names from {list(names)}.")
    having = {name: sum(name in labels for labels in label_sets) for name in names}
    short = {name: count for name, count in having.items()
             if min(count, len(label_sets) - count) < MIN_PER_CLASS}
    if short:
        raise ValueError(
            f"human labels: every label needs at least {MIN_PER_CLASS} labelled rows with it and {MIN_PER_CLASS} "
            f"without it; these fall short (rows with the label, of {len(label_sets)}): {short}. Label more rows."
        )
    return having


class MultiLabelProxyRelabeler:
    """A batched `Dataset.map` function replacing label sets, fitted on a few human-labelled texts.

    One calibrated binary LinearSVC per label on sentence embeddings. A row keeps each label whose score,
    weight * [the row has it now] + (1 - weight) * proxy probability, reaches `threshold`, and at least its
    best-scoring label. The label column (a list of ClassLabel ids or of names) keeps its type. Adds
    `prompted_labels` (when absent), `label_scores` (the kept labels' scores) and `relabelled_by`
    ("proxy" or "human" where the set changed).
    """

    def __init__(
        self,
        names: Sequence[str],
        *,
        weight: float = 0.3,
        threshold: float = 0.5,
        text_column: str = "text",
        label_column: str = "labels",
        embedding_model: str | None = None,
        embedding_cache_path: str | None = None,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight: must lie in [0, 1], got {weight}.")
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold: must lie in (0, 1), got {threshold}.")
        self.names = list(names)
        self.weight = weight
        self.threshold = threshold
        self.text_column = text_column
        self.label_column = label_column
        self.embed = EmbeddingHandle(embedding_model, embedding_cache_path)
        self.proxies: list[Any] = []
        self.human: dict[str, list[str]] = {}

    def fit(self, texts: Sequence[str], label_sets: Sequence[Sequence[str]]) -> MultiLabelProxyRelabeler:
        """Train one proxy per label on human-labelled `texts` (each with its list of label names)."""
        if len(texts) != len(label_sets):
            raise ValueError(f"labels: one label list per text needed, got {len(label_sets)} for {len(texts)} texts.")
        having = check_label_sets(label_sets, self.names)
        vectors = self.embed(texts)
        self.proxies = []
        for name in self.names:
            proxy = calibrated_svm(min(having[name], len(texts) - having[name]))
            self.proxies.append(proxy.fit(vectors, [name in labels for labels in label_sets]))
        self.human = {text: list(labels) for text, labels in zip(texts, label_sets)}
        return self

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Each label's proxy probability (rows, labels), columns in the order of `names`."""
        if not self.proxies:
            raise RuntimeError("MultiLabelProxyRelabeler: call fit(texts, label_sets) with human labels first.")
        vectors = self.embed(texts)
        return np.stack([proxy.predict_proba(vectors)[:, list(proxy.classes_).index(True)] for proxy in self.proxies],
                        axis=1)

    def _indices(self, labels: Sequence[Any]) -> list[int]:
        unknown = [label for label in labels if isinstance(label, str) and label not in self.names]
        if unknown:
            raise ValueError(f"{self.label_column}: {unknown} are not among the labels {self.names}.")
        return [self.names.index(label) if isinstance(label, str) else int(label) for label in labels]

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        values, texts = batch[self.label_column], batch[self.text_column]
        as_names = any(isinstance(label, str) for labels in values for label in labels)
        prompted = np.zeros((len(values), len(self.names)))
        for row, labels in enumerate(values):
            prompted[row, self._indices(labels)] = 1.0
        scores = blend_scores(self.probabilities(texts), prompted, self.weight)
        chosen = scores >= self.threshold
        chosen[np.arange(len(values)), scores.argmax(axis=1)] = True
        by = np.where((chosen != prompted.astype(bool)).any(axis=1), "proxy", "").astype(object)
        for row, text in enumerate(texts):
            if text in self.human:
                chosen[row] = False
                chosen[row, self._indices(self.human[text])] = True
                scores[row, chosen[row]] = 1.0
                by[row] = "human" if (chosen[row] != prompted[row].astype(bool)).any() else ""
        kept = [np.flatnonzero(row) for row in chosen]
        out = {
            self.label_column: [[self.names[i] for i in row] if as_names else row.tolist() for row in kept],
            "label_scores": [scores[r, row].tolist() for r, row in enumerate(kept)],
            "relabelled_by": by.tolist(),
        }
        if "prompted_labels" not in batch:
            out["prompted_labels"] = [list(labels) for labels in values]
        return out
