"""Data-quality metrics over embeddings and texts; embeddings come from the shared `EmbeddingCache`."""

from .accuracy import LabelAccuracy, label_accuracy
from .diversity import ClassSimilarity, average_pairwise_similarity, class_similarity, remote_clique
from .embeddings import EmbeddingCache
from .labels import label_distribution
from .lexical import distinct_n, vocabulary_size
from .report import measure
from .similarity import similarity

__all__ = [
    "ClassSimilarity",
    "LabelAccuracy",
    "EmbeddingCache",
    "average_pairwise_similarity",
    "class_similarity",
    "distinct_n",
    "label_accuracy",
    "label_distribution",
    "measure",
    "remote_clique",
    "similarity",
    "vocabulary_size",
]
