"""Choosing which rows a person labels: at random (the paper) or spread over the embedding space."""

from __future__ import annotations

import numpy as np

STRATEGIES = ("diverse", "random")


def choose_rows(embeddings: np.ndarray, n: int, strategy: str = "diverse", seed: int = 0) -> list[int]:
    """Indices of `n` rows to label, in the order to show them.

    diverse: k-means with n clusters (mini-batch, so memory stays flat), and the row nearest each centre;
    the sample covers every region of the data, rare ones included. random: a uniform sample.
    """
    rows = len(embeddings)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy: must be one of {STRATEGIES}, got {strategy!r}.")
    if not 1 <= n <= rows:
        raise ValueError(f"n: must lie between 1 and the {rows} rows of the dataset, got {n}.")
    if strategy == "random" or n == rows:
        return np.random.default_rng(seed).permutation(rows)[:n].tolist()
    return _nearest_to_centres(embeddings, n, seed)


def _nearest_to_centres(embeddings: np.ndarray, n: int, seed: int) -> list[int]:
    """The row nearest its centre in each of n k-means clusters, biggest cluster first; when a cluster is
    empty, random other rows make up the count."""
    from sklearn.cluster import MiniBatchKMeans

    kmeans = MiniBatchKMeans(n_clusters=n, random_state=seed, n_init=3, batch_size=max(1024, 3 * n))
    clusters = kmeans.fit_predict(embeddings)
    offsets = embeddings - kmeans.cluster_centers_[clusters]
    distance = np.einsum("ij,ij->i", offsets, offsets)
    nearest = {}
    for row in np.argsort(distance):
        nearest.setdefault(int(clusters[row]), int(row))
    sizes = np.bincount(clusters, minlength=n)
    chosen = [nearest[c] for c in sorted(nearest, key=lambda c: -sizes[c])]
    rest = np.setdiff1d(np.random.default_rng(seed).permutation(len(embeddings)), chosen, assume_unique=True)
    return chosen + rest[: n - len(chosen)].tolist()
