"""The measure figure's pieces on plain arrays, and the PNG it writes."""

import matplotlib.image
import numpy as np
import pytest

from hf_llmgen.metrics.figure import class_bars, plot_quality, project_2d


def test_projection_keeps_each_set_and_its_spread():
    rng = np.random.default_rng(0)
    data, reference = rng.standard_normal((30, 8)), rng.standard_normal((20, 8)) + 5
    points, reference_points = project_2d(data, reference)
    assert points.shape == (30, 2) and reference_points.shape == (20, 2)
    assert abs(points[:, 0].mean() - reference_points[:, 0].mean()) > 5  # the shift lies along the first axis


def test_class_bars_add_label_accuracy_only_when_measured():
    result = {"label_distribution": {"shares": {"a": 0.5, "b": 0.5}}, "per_class_similarity": {"a": 0.2, "b": 0.3}}
    assert list(class_bars(result)) == ["share of rows", "intra-class similarity"]
    result["per_class_label_accuracy"] = {"a": 1.0, "b": 0.0}
    assert class_bars(result)["label accuracy"] == {"a": 1.0, "b": 0.0}


@pytest.mark.parametrize("with_labels", [True, False])
def test_plot_writes_a_png_with_or_without_labels(tmp_path, with_labels):
    rng = np.random.default_rng(1)
    labels = ["a", "b"] * 10 if with_labels else None
    result = {"label_distribution": {"shares": {"a": 0.5, "b": 0.5}}, "per_class_similarity": {"a": 0.2, "b": 0.3}}
    path = tmp_path / "figure.png"
    plot_quality(str(path), rng.standard_normal((20, 8)), labels, result if with_labels else {},
                 reference=rng.standard_normal((15, 8)), max_points=10)
    height, width = matplotlib.image.imread(str(path)).shape[:2]
    assert height == 600 and width == (1400 if with_labels else 700)
