"""Exact means of pairwise cosine similarity and distance, without an n x n matrix.

Cosine: for unit vectors u_i with sum S, the sum over ordered pairs i != j of u_i . u_j is |S|^2 - n, so the
mean follows in O(n d). Euclidean has no such identity: it is summed block by block (O(n^2 d) time,
O(block_size * n) memory).
"""

from __future__ import annotations

import numpy as np

METRICS = ("cosine", "euclidean")
DEFAULT_BLOCK = 2048


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, in float64 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def _check(x: np.ndarray, name: str, at_least: int) -> None:
    if x.ndim != 2 or len(x) < at_least:
        raise ValueError(f"{name}: expected a 2-D array with at least {at_least} rows, got shape {x.shape}.")


def mean_pairwise_cosine_similarity(x: np.ndarray) -> float:
    """Mean cosine similarity over all pairs of distinct rows."""
    _check(np.asarray(x), "embeddings", 2)
    u = unit_rows(x)
    total = u.sum(axis=0)
    n = len(u)
    return float((total @ total - np.einsum("ij,ij->", u, u)) / (n * (n - 1)))


def mean_cross_cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine similarity over all pairs (row of a, row of b)."""
    _check(np.asarray(a), "embeddings", 1)
    _check(np.asarray(b), "reference embeddings", 1)
    return float(unit_rows(a).sum(axis=0) @ unit_rows(b).sum(axis=0) / (len(a) * len(b)))


def _euclidean_sum(a: np.ndarray, b: np.ndarray, same: bool, block_size: int) -> float:
    """Sum of euclidean distances over all (row of a, row of b) pairs, block by block."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    b_sq = np.einsum("ij,ij->i", b, b)
    total = 0.0
    for start in range(0, len(a), block_size):
        block = a[start : start + block_size]
        sq = np.einsum("ij,ij->i", block, block)[:, None] + b_sq[None, :] - 2.0 * (block @ b.T)
        distances = np.sqrt(np.maximum(sq, 0.0))
        if same:
            rows = np.arange(len(block))
            distances[rows, start + rows] = 0.0
        total += float(distances.sum())
    return total


def mean_pairwise_distance(x: np.ndarray, metric: str = "cosine", block_size: int = DEFAULT_BLOCK) -> float:
    """Mean distance over all pairs of distinct rows (cosine distance = 1 - cosine similarity)."""
    x = np.asarray(x)
    _check(x, "embeddings", 2)
    if metric == "cosine":
        return 1.0 - mean_pairwise_cosine_similarity(x)
    if metric == "euclidean":
        return _euclidean_sum(x, x, True, block_size) / (len(x) * (len(x) - 1))
    raise ValueError(f"metric: {metric!r} is not one of {METRICS}.")


def mean_cross_distance(a: np.ndarray, b: np.ndarray, metric: str = "cosine", block_size: int = DEFAULT_BLOCK) -> float:
    """Mean distance over all pairs (row of a, row of b)."""
    a, b = np.asarray(a), np.asarray(b)
    if metric == "cosine":
        return 1.0 - mean_cross_cosine_similarity(a, b)
    if metric == "euclidean":
        _check(a, "embeddings", 1)
        _check(b, "reference embeddings", 1)
        return _euclidean_sum(a, b, False, block_size) / (len(a) * len(b))
    raise ValueError(f"metric: {metric!r} is not one of {METRICS}.")
