"""Diversity of a set of texts, from their embeddings: remote-clique, APS, intra- and inter-class similarity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .pairwise import DEFAULT_BLOCK_ELEMENTS, mean_pairwise_cosine_similarity, mean_pairwise_distance, unit_chunks


def remote_clique(
    embeddings: np.ndarray, metric: str = "cosine", block_elements: int = DEFAULT_BLOCK_ELEMENTS
) -> float:
    """Remote-clique diversity (Chung et al., 2023): the mean over texts of each text's mean distance to the others.

    That equals the mean distance over all pairs of distinct texts; higher is more diverse.
    """
    return mean_pairwise_distance(embeddings, metric, block_elements)


def average_pairwise_similarity(embeddings: np.ndarray) -> float:
    """APS (Yu et al., 2023): the mean cosine similarity over all pairs of distinct texts; lower is more diverse."""
    return mean_pairwise_cosine_similarity(embeddings)


@dataclass(frozen=True)
class ClassSimilarity:
    """Mean cosine similarity within each class and between each pair of classes, and their macro means."""

    intra: dict[str, float]
    inter: dict[tuple[str, str], float]

    @property
    def intra_mean(self) -> float:
        return float(np.mean(list(self.intra.values()))) if self.intra else float("nan")

    @property
    def inter_mean(self) -> float:
        return float(np.mean(list(self.inter.values()))) if self.inter else float("nan")


def class_similarity(embeddings: np.ndarray, labels: Sequence[str]) -> ClassSimilarity:
    """Intra-class APS for every class with two or more texts, inter-class APS for every pair of classes."""
    if len(labels) != len(embeddings):
        raise ValueError(f"labels: {len(labels)} labels for {len(embeddings)} embeddings; give one per text.")
    labels_array = np.asarray(labels)
    names = sorted(set(labels_array.tolist()))
    sums = {name: np.zeros(np.shape(embeddings)[1]) for name in names}
    counts = {name: 0 for name in names}
    squares = {name: 0.0 for name in names}
    for start, u in unit_chunks(embeddings):
        chunk_labels = labels_array[start : start + len(u)]
        for name in set(chunk_labels.tolist()):
            rows = u[chunk_labels == name]
            sums[name] += rows.sum(axis=0)
            counts[name] += len(rows)
            squares[name] += float(np.einsum("ij,ij->", rows, rows))
    intra = {
        name: float((sums[name] @ sums[name] - squares[name]) / (counts[name] * (counts[name] - 1)))
        for name in names
        if counts[name] > 1
    }
    inter = {
        (a, b): float(sums[a] @ sums[b] / (counts[a] * counts[b]))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }
    return ClassSimilarity(intra, inter)
