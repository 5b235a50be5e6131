"""Every metric against a naive reference built on sklearn's pairwise_distances, to 1e-6."""

import itertools
import json
import os

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from hf_llmgen.metrics import (
    EmbeddingCache,
    average_pairwise_similarity,
    class_similarity,
    distinct_n,
    label_distribution,
    remote_clique,
    similarity,
    vocabulary_size,
)

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "real_texts.jsonl")


def naive_remote_clique(x, metric):
    d = pairwise_distances(x, metric=metric)
    n = len(x)
    return np.mean([d[i][np.arange(n) != i].mean() for i in range(n)])


def naive_cross(x, y, metric):
    return pairwise_distances(x, y, metric=metric).mean()


def random_sets():
    rng = np.random.default_rng(0)
    yield rng.normal(size=(300, 384)).astype(np.float32), rng.normal(size=(170, 384)).astype(np.float32)
    yield rng.uniform(size=(50, 8)), rng.uniform(size=(61, 8)) + 0.3


@pytest.fixture(scope="module")
def real_set(tmp_path_factory):
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    cache = EmbeddingCache(path=str(tmp_path_factory.mktemp("emb") / "e.sqlite"))
    embeddings = cache.embed([row["text"] for row in rows])
    cache.close()
    return embeddings, [row["label"] for row in rows]


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_remote_clique_and_similarity_match_sklearn_on_random_data(metric):
    for x, y in random_sets():
        assert remote_clique(x, metric, block_elements=5000) == pytest.approx(naive_remote_clique(x, metric), abs=1e-6)
        expected = naive_cross(x, y, metric)
        expected = 1 - expected if metric == "cosine" else 1 / (1 + expected)
        assert similarity(x, y, metric, block_elements=3700) == pytest.approx(expected, abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_remote_clique_and_similarity_match_sklearn_on_real_embeddings(real_set, metric):
    embeddings, labels = real_set
    bank, sms = embeddings[:48], embeddings[48:]
    assert remote_clique(embeddings, metric) == pytest.approx(naive_remote_clique(embeddings, metric), abs=1e-6)
    expected = naive_cross(bank, sms, metric)
    expected = 1 - expected if metric == "cosine" else 1 / (1 + expected)
    assert similarity(bank, sms, metric) == pytest.approx(expected, abs=1e-6)


def naive_class_similarity(x, labels):
    sim = 1 - pairwise_distances(x, metric="cosine")
    labels = np.asarray(labels)
    names = sorted(set(labels))
    intra = {}
    for name in names:
        idx = np.flatnonzero(labels == name)
        if len(idx) > 1:
            intra[name] = np.mean([sim[i, j] for i, j in itertools.permutations(idx, 2)])
    inter = {(a, b): sim[np.ix_(labels == a, labels == b)].mean() for a, b in itertools.combinations(names, 2)}
    return intra, inter


def check_class_similarity(x, labels):
    result = class_similarity(x, labels)
    intra, inter = naive_class_similarity(x, labels)
    assert result.intra.keys() == intra.keys() and result.inter.keys() == inter.keys()
    for name in intra:
        assert result.intra[name] == pytest.approx(intra[name], abs=1e-6)
    for pair in inter:
        assert result.inter[pair] == pytest.approx(inter[pair], abs=1e-6)
    assert result.intra_mean == pytest.approx(np.mean(list(intra.values())), abs=1e-6)


def test_aps_and_class_similarity_match_sklearn_on_random_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 16))
    labels = rng.choice(["a", "b", "c"], size=90).tolist() + ["lonely"]
    x = np.vstack([x, rng.normal(size=(1, 16))])
    sim = 1 - pairwise_distances(x, metric="cosine")
    n = len(x)
    assert average_pairwise_similarity(x) == pytest.approx((sim.sum() - np.trace(sim)) / (n * (n - 1)), abs=1e-6)
    check_class_similarity(x, labels)


@pytest.mark.slow
def test_class_similarity_matches_sklearn_on_real_embeddings(real_set):
    check_class_similarity(*real_set)
    result = class_similarity(*real_set)
    assert result.intra_mean > result.inter_mean  # intents are closer within a class than across


@pytest.mark.slow
def test_embedding_cache_computes_each_text_once(tmp_path):
    cache = EmbeddingCache(path=str(tmp_path / "e.sqlite"))
    first = cache.embed(["the card never came", "top up failed", "the card never came"])
    assert first.shape == (3, 384) and cache.computed == 2
    assert np.array_equal(first[0], first[2])
    again = cache.embed(["top up failed", "the card never came"])
    assert cache.computed == 2 and np.array_equal(again, first[[1, 0]])
    cache.close()
    reopened = EmbeddingCache(path=str(tmp_path / "e.sqlite"))
    assert np.array_equal(reopened.embed(["top up failed"]), first[[1]]) and reopened.computed == 0


def test_lexical_metrics():
    texts = ["The card never came.", "the CARD came!", "Top-up failed"]
    assert vocabulary_size(texts) == 7  # the, card, never, came, top, up, failed
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b", "a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["one"], 2) == 0.0


def test_label_distribution():
    result = label_distribution(["a", "a", "b"], names=["a", "b", "c"])
    assert result["counts"] == {"a": 2, "b": 1, "c": 0}
    assert result["shares"]["a"] == pytest.approx(2 / 3)
    assert result["imbalance_ratio"] == float("inf")
    balanced = label_distribution(["a", "b"] * 5)
    assert balanced["normalised_entropy"] == pytest.approx(1.0) and balanced["imbalance_ratio"] == 1.0


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="embeddings"):
        remote_clique(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="metric"):
        remote_clique(np.ones((3, 4)), metric="manhattan")
    with pytest.raises(ValueError, match="labels"):
        class_similarity(np.ones((3, 4)), ["a"])
