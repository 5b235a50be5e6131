"""Similarity of a generated set to a reference (real) set, from their embeddings; higher means closer."""

from __future__ import annotations

import numpy as np

from .pairwise import DEFAULT_BLOCK_ELEMENTS, mean_cross_distance


def similarity(
    embeddings: np.ndarray,
    reference: np.ndarray,
    metric: str = "cosine",
    block_elements: int = DEFAULT_BLOCK_ELEMENTS,
) -> float:
    """How close two sets are, from the mean distance d over all (generated, reference) pairs.

    cosine: 1 - d, the mean cosine similarity (in [-1, 1]). euclidean: 1 / (1 + d) (in (0, 1]).
    """
    distance = mean_cross_distance(embeddings, reference, metric, block_elements)
    return 1.0 - distance if metric == "cosine" else 1.0 / (1.0 + distance)
