"""Exact means of pairwise cosine similarity and distance, without an n x n matrix.

Cosine: for unit vectors u_i with sum S, the sum over ordered pairs i != j of u_i . u_j is |S|^2 - sum |u_i|^2,
so the mean follows in O(n d), reading the rows chunk by chunk. Euclidean has no such identity: it is
summed block by block, O(n^2 d) time, with blocks of at most `block_elements` distances in memory.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

METRICS = ("cosine", "euclidean")
CHUNK_ROWS = 65_536
DEFAULT_BLOCK_ELEMENTS = 8_000_000  # distances held at once: 64 MB in float64


def _check(x: np.ndarray, name: str, at_least: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or len(x) < at_least:
        raise ValueError(f"{name}: expected a 2-D array with at least {at_least} rows, got shape {x.shape}.")
    return x


def unit_chunks(x: np.ndarray, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(start row, rows scaled to unit length in float64) for consecutive chunks; zero rows stay zero."""
    for start in range(0, len(x), chunk_rows):
        chunk = np.asarray(x[start : start + chunk_rows], dtype=np.float64)
        norms = np.linalg.norm(chunk, axis=1, keepdims=True)
        yield start, chunk / np.where(norms == 0, 1.0, norms)


def unit_sum(x: np.ndarray) -> tuple[np.ndarray, float]:
    """The sum of the unit rows and the sum of their squared norms (the count of non-zero rows)."""
    total, squares = np.zeros(x.shape[1]), 0.0
    for _, u in unit_chunks(x):
        total += u.sum(axis=0)
        squares += float(np.einsum("ij,ij->", u, u))
    return total, squares


def mean_pairwise_cosine_similarity(x: np.ndarray) -> float:
    """Mean cosine similarity over all pairs of distinct rows."""
    x = _check(x, "embeddings", 2)
    total, squares = unit_sum(x)
    return float((total @ total - squares) / (len(x) * (len(x) - 1)))


def mean_cross_cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine similarity over all pairs (row of a, row of b)."""
    a, b = _check(a, "embeddings", 1), _check(b, "reference embeddings", 1)
    return float(unit_sum(a)[0] @ unit_sum(b)[0] / (len(a) * len(b)))


def nearest_cosine_similarity(a: np.ndarray, b: np.ndarray, block_elements: int = DEFAULT_BLOCK_ELEMENTS) -> np.ndarray:
    """For each row of a, its highest cosine similarity to any row of b (blocks of a, no len(a) x len(b) matrix)."""
    a, b = _check(a, "embeddings", 1), _check(b, "reference embeddings", 1)
    units = np.concatenate([u for _, u in unit_chunks(b)])
    nearest = np.empty(len(a))
    for start, u in unit_chunks(a, max(1, block_elements // len(b))):
        nearest[start : start + len(u)] = (u @ units.T).max(axis=1)
    return nearest


def _euclidean_sum(a: np.ndarray, b: np.ndarray, same: bool, block_elements: int) -> float:
    """Sum of euclidean distances over all (row of a, row of b) pairs, block by block."""
    b = np.asarray(b, dtype=np.float64)
    b_sq = np.einsum("ij,ij->i", b, b)
    rows = max(1, block_elements // len(b))
    total = 0.0
    for start in range(0, len(a), rows):
        block = np.asarray(a[start : start + rows], dtype=np.float64)
        sq = block @ b.T
        sq *= -2.0
        sq += np.einsum("ij,ij->i", block, block)[:, None]
        sq += b_sq[None, :]
        np.maximum(sq, 0.0, out=sq)
        np.sqrt(sq, out=sq)
        if same:
            index = np.arange(len(block))
            sq[index, start + index] = 0.0
        total += float(sq.sum())
    return total


def mean_pairwise_distance(
    x: np.ndarray, metric: str = "cosine", block_elements: int = DEFAULT_BLOCK_ELEMENTS
) -> float:
    """Mean distance over all pairs of distinct rows (cosine distance = 1 - cosine similarity)."""
    x = _check(x, "embeddings", 2)
    if metric == "cosine":
        return 1.0 - mean_pairwise_cosine_similarity(x)
    if metric == "euclidean":
        return _euclidean_sum(x, x, True, block_elements) / (len(x) * (len(x) - 1))
    raise ValueError(f"metric: {metric!r} is not one of {METRICS}.")


def mean_cross_distance(
    a: np.ndarray, b: np.ndarray, metric: str = "cosine", block_elements: int = DEFAULT_BLOCK_ELEMENTS
) -> float:
    """Mean distance over all pairs (row of a, row of b)."""
    if metric == "cosine":
        return 1.0 - mean_cross_cosine_similarity(a, b)
    if metric == "euclidean":
        a, b = _check(a, "embeddings", 1), _check(b, "reference embeddings", 1)
        return _euclidean_sum(a, b, False, block_elements) / (len(a) * len(b))
    raise ValueError(f"metric: {metric!r} is not one of {METRICS}.")
