"""Choosing the rows to label, on plain arrays."""

import numpy as np
import pytest

from hf_llmgen.interventions.selection import choose_rows


def _blobs(sizes, seed=0):
    """Well-separated clusters of the given sizes, in 8 dimensions; returns points and cluster ids."""
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[: len(sizes)] * 20
    points = np.concatenate([centre + rng.normal(size=(size, 8)) for centre, size in zip(centres, sizes)])
    return points.astype(np.float32), np.repeat(np.arange(len(sizes)), sizes)


def test_diverse_takes_one_row_from_each_cluster_even_a_tiny_one():
    points, cluster = _blobs([500, 300, 150, 40, 10])
    chosen = choose_rows(points, 5, "diverse")
    assert sorted(cluster[chosen]) == [0, 1, 2, 3, 4]
    assert cluster[chosen[0]] == 0  # biggest cluster first
    random_hits = [len(set(cluster[choose_rows(points, 5, "random", seed)])) for seed in range(20)]
    assert min(random_hits) < 5


def test_rows_are_distinct_and_repeatable():
    points, _ = _blobs([200, 200])
    for strategy in ("diverse", "random"):
        chosen = choose_rows(points, 50, strategy, seed=3)
        assert len(set(chosen)) == 50 and all(0 <= r < 400 for r in chosen)
        assert chosen == choose_rows(points, 50, strategy, seed=3)
    assert sorted(choose_rows(points, 400, "diverse")) == list(range(400))


def test_bad_arguments_are_named():
    points, _ = _blobs([10])
    with pytest.raises(ValueError, match="strategy: must be one of"):
        choose_rows(points, 3, "uncertain")
    with pytest.raises(ValueError, match="n: must lie between 1 and the 10 rows"):
        choose_rows(points, 11)
