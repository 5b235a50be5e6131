"""A PNG of a dataset's quality: a 2-D map of its embeddings beside a reference's, and per-class bars."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from ..staging import staged_file

MAX_POINTS = 5000


def _pick(n: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most `limit` of n points, chosen at random, in order."""
    return np.arange(n) if n <= limit else np.sort(rng.choice(n, size=limit, replace=False))


def project_2d(vectors: np.ndarray, reference: np.ndarray | None = None, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Both sets projected on the two principal axes of their union."""
    from sklearn.decomposition import PCA

    union = vectors if reference is None else np.vstack([vectors, reference])
    points = PCA(n_components=2, random_state=seed).fit_transform(union)
    return (points,) if reference is None else (points[: len(vectors)], points[len(vectors) :])


def class_bars(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per class: its share of rows, its intra-class similarity, its label check's pass rate and (when measured)
    its label accuracy."""
    bars = {
        "share of rows": result["label_distribution"]["shares"],
        "intra-class similarity": result["per_class_similarity"],
    }
    if "label_check" in result:
        bars["label check pass rate"] = {name: c["pass_rate"] or 0.0 for name, c in result["label_check"].items()}
    if "per_class_label_accuracy" in result:
        bars["label accuracy"] = result["per_class_label_accuracy"]
    return bars


def plot_quality(
    path: str,
    vectors: np.ndarray,
    labels: Sequence[str] | None,
    result: dict[str, Any],
    reference: np.ndarray | None = None,
    reference_labels: Sequence[str] | None = None,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> None:
    """Write the figure to `path`: at most `max_points` of each set on the map (every row counts in the bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    shown = _pick(len(vectors), max_points, rng)
    shown_reference = _pick(len(reference), max_points, rng) if reference is not None else None
    projected = project_2d(vectors[shown], reference[shown_reference] if reference is not None else None, seed)
    with_bars = labels is not None and "per_class_similarity" in result
    figure, axes = plt.subplots(1, 2 if with_bars else 1, figsize=(14 if with_bars else 7, 6), squeeze=False)
    _draw_map(axes[0][0], projected, labels, shown, reference_labels, shown_reference)
    title = f"embeddings, PCA: {len(shown):,} of {len(vectors):,} rows"
    if reference is not None:
        title += f", {len(shown_reference):,} of {len(reference):,} reference rows"
    axes[0][0].set_title(title, fontsize=10)
    if with_bars:
        _draw_bars(axes[0][1], class_bars(result))
    figure.tight_layout()
    with staged_file(path) as partial:
        figure.savefig(partial, dpi=100, format=os.path.splitext(path)[1].lstrip(".") or "png")
    plt.close(figure)


def _draw_map(axis: Any, projected: tuple[np.ndarray, ...], labels, shown, reference_labels, shown_reference) -> None:
    names = sorted(set(labels) | set(reference_labels or [])) if labels is not None else []
    colours = {name: f"C{i % 10}" for i, name in enumerate(names)}
    if len(projected) == 2:
        ref_points = projected[1]
        ref_colours = [colours.get(reference_labels[i], "grey") for i in shown_reference] if reference_labels else "grey"
        axis.scatter(ref_points[:, 0], ref_points[:, 1], c=ref_colours, marker="x", s=12, alpha=0.5, linewidths=0.8)
        axis.scatter([], [], c="grey", marker="x", label="reference (x)")
    points = projected[0]
    point_colours = [colours[labels[i]] for i in shown] if labels is not None else "C0"
    axis.scatter(points[:, 0], points[:, 1], c=point_colours, marker="o", s=14, alpha=0.7)
    for name in names:
        axis.scatter([], [], c=colours[name], marker="o", label=name)
    axis.legend(fontsize=7, loc="best", ncol=1 + len(names) // 12)


def _draw_bars(axis: Any, bars: dict[str, dict[str, float]]) -> None:
    classes = list(next(iter(bars.values())))
    width = 0.8 / len(bars)
    positions = np.arange(len(classes))
    for i, (name, values) in enumerate(bars.items()):
        axis.bar(positions + i * width, [values.get(c, 0.0) for c in classes], width, label=name)
    axis.set_xticks(positions + width * (len(bars) - 1) / 2, classes, rotation=60, ha="right", fontsize=7)
    axis.set_ylim(0, 1)
    axis.set_title("per class")
    axis.legend(fontsize=8)
