"""Blind spots: a classifier's high-confidence errors on labelled data, grouped by (true, predicted) label and,
within each pair, into clusters of similar texts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import datasets
import numpy as np

from ..metrics.accuracy import load_oracle, oracle_label_map, oracle_outputs
from ..metrics.embeddings import EmbeddingCache
from ..metrics.report import label_names, require_column

ROWS_PER_SPOT = 8  # a (true, predicted) pair's errors are split into groups of about this many similar texts
MAX_SPOTS_PER_PAIR = 3


class NoConfidentErrors(ValueError):
    """The classifier makes no error above the confidence threshold on the data: nothing to target."""


@dataclass(frozen=True)
class Predictions:
    """A classifier's top label and its probability for each row, beside the rows' true labels."""

    labels: list[str]
    predicted: list[str]
    confidence: np.ndarray


@dataclass(frozen=True)
class BlindSpot:
    """Similar texts of `label` that the classifier took for `predicted` with high confidence."""

    label: str
    predicted: str
    rows: list[int]
    texts: list[str]
    confidence: list[float]

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def mean_confidence(self) -> float:
        return float(np.mean(self.confidence))


def predict(classifier: Any, dataset: datasets.Dataset, text_column: str = "text", label_column: str = "label",
            batch_size: int = 32) -> Predictions:
    """The classifier's predictions on `dataset`, its labels matched to the data's label names.

    classifier: a text-classification pipeline, or a model name or folder to load one from; its labels must be
    the data's (by name, or LABEL_i in the data's order).
    """
    require_column(dataset, text_column, "text_column")
    labels, names = label_names(dataset, label_column)
    pipe = load_oracle(classifier)
    id2label = pipe.model.config.id2label
    model_labels = [id2label[i] for i in sorted(id2label)]
    names = names or sorted(set(labels))
    if len(model_labels) != len(names):
        raise ValueError(f"classifier: it has the labels {model_labels}, the data {names}; give a classifier trained "
                         "for the data's labels.")
    mapping = oracle_label_map(model_labels, names)
    outputs = list(oracle_outputs(pipe, dataset[text_column], batch_size))
    return Predictions(labels, [mapping[o["label"]] for o in outputs],
                       np.array([o["score"] for o in outputs], dtype=np.float32))


def confidence_threshold(predictions: Predictions) -> float:
    """The median confidence of the correct predictions: an error above it is as sure as a typical right answer
    (calibration-aware: it follows how confident this classifier usually is). 0.5 when none is right."""
    right = [c for c, y, p in zip(predictions.confidence, predictions.labels, predictions.predicted) if y == p]
    return float(np.median(right)) if right else 0.5


def confident_errors(predictions: Predictions, threshold: float) -> list[int]:
    """Rows the classifier got wrong with a confidence of at least `threshold`."""
    return [i for i, (c, y, p) in enumerate(zip(predictions.confidence, predictions.labels, predictions.predicted))
            if y != p and c >= threshold]


def group_errors(rows: Sequence[int], pairs: Sequence[tuple[str, str]], vectors: np.ndarray,
                 rows_per_spot: int = ROWS_PER_SPOT, max_spots_per_pair: int = MAX_SPOTS_PER_PAIR,
                 seed: int = 0) -> list[list[int]]:
    """The error rows grouped: by (true, predicted) pair, then by k-means on their embeddings into
    ceil(n / rows_per_spot) groups (at most `max_spots_per_pair`); the largest groups first."""
    from sklearn.cluster import KMeans

    groups: list[list[int]] = []
    for pair in sorted(set(pairs)):
        members = [i for i, p in enumerate(pairs) if p == pair]
        k = min(max_spots_per_pair, math.ceil(len(members) / rows_per_spot))
        if k <= 1:
            groups.append([rows[i] for i in members])
            continue
        assigned = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors[members])
        groups += [[rows[i] for i, a in zip(members, assigned) if a == c] for c in range(k)]
    return sorted((g for g in groups if g), key=len, reverse=True)


def blind_spots(
    predictions: Predictions,
    texts: Sequence[str],
    threshold: float,
    embeddings: EmbeddingCache | None = None,
    rows_per_spot: int = ROWS_PER_SPOT,
    max_spots_per_pair: int = MAX_SPOTS_PER_PAIR,
) -> list[BlindSpot]:
    """The errors of `predictions` (on `texts`) at `threshold` or above, grouped into blind spots; raises
    NoConfidentErrors when there are none."""
    rows = confident_errors(predictions, threshold)
    if not rows:
        raise NoConfidentErrors(
            f"the classifier makes no error with confidence >= {threshold:.3f} on these {len(texts)} rows, so "
            "there is nothing to target; give more (or harder) labelled rows, or a lower threshold."
        )
    error_texts = [texts[i] for i in rows]
    pairs = [(predictions.labels[i], predictions.predicted[i]) for i in rows]
    vectors = (embeddings or EmbeddingCache()).embed(error_texts)
    groups = group_errors(list(range(len(rows))), pairs, vectors, rows_per_spot, max_spots_per_pair)
    return [BlindSpot(pairs[g[0]][0], pairs[g[0]][1], [rows[i] for i in g], [error_texts[i] for i in g],
                      [float(predictions.confidence[rows[i]]) for i in g]) for g in groups]


def find_blind_spots(
    classifier: Any,
    dataset: datasets.Dataset,
    *,
    text_column: str = "text",
    label_column: str = "label",
    threshold: float | None = None,
    embeddings: EmbeddingCache | None = None,
) -> tuple[list[BlindSpot], float]:
    """The classifier's blind spots on `dataset`, and the confidence threshold used.

    threshold: an error counts at this confidence or above (default: `confidence_threshold`, the median
    confidence of its correct predictions). Raises NoConfidentErrors when no error reaches it.
    """
    predictions = predict(classifier, dataset, text_column, label_column)
    threshold = confidence_threshold(predictions) if threshold is None else threshold
    return blind_spots(predictions, dataset[text_column], threshold, embeddings), threshold
