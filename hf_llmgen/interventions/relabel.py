"""Label replacement (the diversity paper's LR) as batched `Dataset.map` functions, in three modes.

proxy: a classifier trained on a few human labels re-scores every row, and each row takes the label with the
highest blend of "was prompted" and proxy confidence. oracle: a text-classification model relabels every
row. llm: the generator itself classifies every row (`hf_llmgen.interventions.llm`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..metrics.accuracy import load_oracle, oracle_label_map, oracle_outputs
from .proxy import EmbeddingHandle, calibrated_svm

MIN_PER_CLASS = 2

logger = logging.getLogger(__name__)


def blend_scores(probabilities: np.ndarray, prompted: np.ndarray, weight: float) -> np.ndarray:
    """weight * [the row has the class now] + (1 - weight) * proxy probability, per row and class.

    prompted: 0/1 per row and class (one 1 per row for single-label data, see `one_hot`).
    """
    return weight * prompted + (1.0 - weight) * probabilities


def one_hot(indices: np.ndarray, classes: int) -> np.ndarray:
    """(rows, classes) of 0/1 with a 1 at each row's index."""
    matrix = np.zeros((len(indices), classes))
    matrix[np.arange(len(indices)), indices] = 1.0
    return matrix


def check_human_labels(labels: Sequence[str], names: Sequence[str], min_per_class: int = MIN_PER_CLASS) -> dict[str, int]:
    """Counts per label; raises when a label is unknown or a class has fewer than `min_per_class` rows."""
    counts = Counter(labels)
    unknown = sorted(set(counts) - set(names))
    if unknown:
        raise ValueError(f"human labels: {unknown} are not dataset labels; use names from {list(names)}.")
    short = {name: counts[name] for name in names if counts[name] < min_per_class}
    if short:
        raise ValueError(
            f"human labels: every class needs at least {min_per_class} labelled rows; these have fewer: {short}. "
            "Label more rows of them."
        )
    return {name: counts[name] for name in names}


def proxy_labels(counts: Mapping[str, int], min_per_class: int = MIN_PER_CLASS) -> list[str]:
    """The labels a proxy can learn: those with at least `min_per_class` human labels; raises when fewer than
    two labels have that many."""
    learnable = [name for name, count in counts.items() if count >= min_per_class]
    if len(learnable) < 2:
        raise ValueError(
            f"human labels: the proxy needs at least 2 labels with {min_per_class} or more labelled rows each; "
            f"got {dict(counts)}. Label more rows."
        )
    return learnable


class Relabeler:
    """A batched `Dataset.map` function that gives every row the label with the highest score.

    Subclasses say how rows are scored (`scores`) and name their mode. A text in `human` (text -> label name)
    takes that label, with score 1. The label column keeps its type (ClassLabel ids or names). Adds
    `prompted_label` (when the dataset has none), `label_score` (the winning score) and `relabelled_by`
    (where the label changed: the mode, or "human"; else "").
    """

    mode = ""

    def __init__(self, names: Sequence[str], *, text_column: str = "text", label_column: str = "label") -> None:
        self.names = list(names)
        self.text_column = text_column
        self.label_column = label_column
        self.human: dict[str, str] = {}

    def scores(self, texts: Sequence[str], current: np.ndarray) -> np.ndarray:
        """Scores (rows, classes), columns in the order of `names`; `current` holds each row's label index."""
        raise NotImplementedError

    def index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"{self.label_column}: {name!r} is not one of the labels {self.names}.")
        return self.names.index(name)

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        values = batch[self.label_column]
        as_names = bool(values) and isinstance(values[0], str)
        current = np.array([self.index(v) for v in values] if as_names else values, dtype=int)
        texts = batch[self.text_column]
        scores = self.scores(texts, current)
        chosen = scores.argmax(axis=1)
        by = np.where(chosen != current, self.mode, "").astype(object)
        for row, text in enumerate(texts):
            if text in self.human:
                chosen[row] = self.index(self.human[text])
                scores[row, chosen[row]] = 1.0
                by[row] = "human" if chosen[row] != current[row] else ""
        out = {
            self.label_column: [self.names[i] for i in chosen] if as_names else chosen.tolist(),
            "label_score": scores[np.arange(len(chosen)), chosen].tolist(),
            "relabelled_by": by.tolist(),
        }
        if "prompted_label" not in batch:
            out["prompted_label"] = list(values)
        return out


class ProxyRelabeler(Relabeler):
    """Label replacement by a proxy fitted on a few human-labelled texts (the paper's method).

    The proxy is one-vs-rest linear SVMs (LinearSVC, max_iter=10000) on sentence embeddings, with
    sigmoid-calibrated probabilities. weight: how much the row's current (prompted) label counts (0.3).
    embedding_model / embedding_cache_path: the sentence-transformers model and the embedding cache file.
    A label with fewer than MIN_PER_CLASS human labels is left out of the proxy (`left_out`, with a warning):
    rows that have it keep it (label_score 1) and no row moves to it.
    """

    mode = "proxy"

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
        super().__init__(names, text_column=text_column, label_column=label_column)
        self.weight = weight
        self.embed = EmbeddingHandle(embedding_model, embedding_cache_path)
        self.proxy: Any = None
        self.left_out: list[str] = []

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> ProxyRelabeler:
        """Train the proxy on human-labelled `texts` (labels given as names); those texts keep their label."""
        if len(texts) != len(labels):
            raise ValueError(f"labels: one label per text needed, got {len(labels)} for {len(texts)} texts.")
        counts = check_human_labels(labels, self.names, min_per_class=0)
        learnable = proxy_labels(counts)
        self.left_out = [name for name in self.names if name not in learnable]
        if self.left_out:
            logger.warning("human labels: %s have fewer than %d labelled rows each, so the proxy leaves them out: "
                           "rows that have them keep them and no row moves to them. Label more rows of them to "
                           "include them.", self.left_out, MIN_PER_CLASS)
        self.human = dict(zip(texts, labels))
        fitted = [(text, label) for text, label in zip(texts, labels) if label in learnable]
        self.proxy = calibrated_svm(min(counts[name] for name in learnable))
        self.proxy.fit(self.embed([text for text, _ in fitted]), [self.index(label) for _, label in fitted])
        return self

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Proxy probabilities (rows, classes), columns in the order of `names` (0 for a label left out)."""
        if self.proxy is None:
            raise RuntimeError("ProxyRelabeler: call fit(texts, labels) with human labels first.")
        probabilities = np.zeros((len(texts), len(self.names)))
        probabilities[:, self.proxy.classes_] = self.proxy.predict_proba(self.embed(texts))
        return probabilities

    def scores(self, texts: Sequence[str], current: np.ndarray) -> np.ndarray:
        prompted = one_hot(current, len(self.names))
        scores = blend_scores(self.probabilities(texts), prompted, self.weight)
        kept = np.isin(current, [self.index(name) for name in self.left_out])
        scores[kept] = prompted[kept]
        return scores


class OracleRelabeler(Relabeler):
    """Label replacement by a text-classification model: every row takes the oracle's top label.

    oracle: a model name or folder (loaded as a transformers pipeline on first use) or a pipeline.
    label_map: oracle label -> dataset label, when their names differ (see `oracle_label_map`).
    """

    mode = "oracle"

    def __init__(
        self,
        names: Sequence[str],
        oracle: Any,
        *,
        label_map: Mapping[str, str] | None = None,
        text_column: str = "text",
        label_column: str = "label",
        batch_size: int = 32,
    ) -> None:
        super().__init__(names, text_column=text_column, label_column=label_column)
        self.oracle = oracle
        self.label_map = dict(label_map) if label_map else None
        self.batch_size = batch_size

    def __getstate__(self) -> dict[str, Any]:
        """A loaded pipeline is pickled as its model's name or folder, which also fingerprints it."""
        state = dict(self.__dict__)
        if not isinstance(self.oracle, str):
            state["oracle"] = self.oracle.model.name_or_path
        return state

    def scores(self, texts: Sequence[str], current: np.ndarray) -> np.ndarray:
        self.oracle = load_oracle(self.oracle)
        id2label = self.oracle.model.config.id2label
        mapping = oracle_label_map([id2label[i] for i in sorted(id2label)], self.names, self.label_map)
        scores = np.zeros((len(texts), len(self.names)))
        for row, output in enumerate(oracle_outputs(self.oracle, texts, self.batch_size)):
            scores[row, self.index(mapping[output["label"]])] = output["score"]
        return scores
