"""`evaluate` modules for hf_llmgen's metrics, loadable offline: `evaluate.load(module_path("remote_clique"))`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..metrics.embeddings import EmbeddingCache

NAMES = (
    "remote_clique",
    "average_pairwise_similarity",
    "class_similarity",
    "reference_similarity",
    "label_accuracy",
    "lexical_diversity",
    "label_distribution",
)


def module_path(name: str) -> str:
    """The file of the evaluate module `name`, for `evaluate.load`."""
    if name not in NAMES:
        raise ValueError(f"module: {name!r} is not one of hf_llmgen's evaluate modules {NAMES}.")
    return os.path.join(os.path.dirname(__file__), f"{name}.py")


def module_info(description: str, features: dict):
    """The MeasurementInfo every module returns: its description and string-valued inputs."""
    import datasets
    import evaluate

    return evaluate.MeasurementInfo(
        module_type="measurement",
        description=description,
        citation="",
        inputs_description="; ".join(f"{name}: list of str" for name in features),
        features=datasets.Features({name: datasets.Value("string") for name in features}),
    )


def embed(texts: Sequence[str], embedding_model: str | None = None) -> np.ndarray:
    """Embeddings of `texts` from the shared cache (default model: the packaged all-MiniLM-L6-v2)."""
    cache = EmbeddingCache(embedding_model)
    try:
        return cache.embed(texts)
    finally:
        cache.close()
