"""Label-replacement arithmetic and human-label checks, on plain inputs."""

import numpy as np
import pytest

from hf_llmgen.interventions import ProxyRelabeler
from hf_llmgen.interventions.relabel import blend_scores, check_human_labels, one_hot, proxy_labels


def test_blend_weights_the_current_label_against_the_proxy():
    probabilities = np.array([[0.6, 0.4], [0.2, 0.8]])
    scores = blend_scores(probabilities, one_hot(np.array([1, 1]), 2), weight=0.3)
    assert scores == pytest.approx(np.array([[0.42, 0.58], [0.14, 0.86]]))
    # row 0: the proxy prefers class 0 (0.6) but not by enough to overturn the prompted label at w=0.3
    assert scores.argmax(axis=1).tolist() == [1, 1]
    assert blend_scores(np.array([[0.9, 0.1]]), one_hot(np.array([1]), 2), weight=0.3).argmax() == 0
    # several labels at once (multi-label rows): each label is blended on its own
    assert blend_scores(np.array([[0.9, 0.5, 0.1]]), np.array([[1.0, 0.0, 1.0]]), 0.3) == pytest.approx(
        np.array([[0.93, 0.35, 0.37]]))


def test_human_labels_must_be_known_and_cover_every_class():
    assert check_human_labels(["a", "b", "a", "b"], ["a", "b"]) == {"a": 2, "b": 2}
    with pytest.raises(ValueError, match=r"human labels: \['c'\] are not dataset labels"):
        check_human_labels(["a", "c"], ["a", "b"])
    with pytest.raises(ValueError, match=r"at least 2 labelled rows; these have fewer: \{'b': 1\}"):
        check_human_labels(["a", "a", "b"], ["a", "b"])


def test_the_proxy_learns_labels_with_two_human_labels_and_needs_two_such_labels():
    assert proxy_labels({"a": 2, "b": 5, "c": 1, "d": 0}) == ["a", "b"]
    with pytest.raises(ValueError, match=r"at least 2 labels with 2 or more labelled rows each; got \{'a': 3, 'b': 1\}"):
        proxy_labels({"a": 3, "b": 1})


def test_weight_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match=r"weight: must lie in \[0, 1\], got 1.5"):
        ProxyRelabeler(["a", "b"], weight=1.5)


def test_relabelling_before_fit_says_what_to_do():
    with pytest.raises(RuntimeError, match="call fit"):
        ProxyRelabeler(["a", "b"]).probabilities(["x"])
