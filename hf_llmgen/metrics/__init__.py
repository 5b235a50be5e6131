"""Data-quality metrics over embeddings and texts; embeddings come from the shared `EmbeddingCache`."""

from .diversity import ClassSimilarity, average_pairwise_similarity, class_similarity, remote_clique
from .embeddings import EmbeddingCache
from .labels import label_distribution
from .lexical import distinct_n, vocabulary_size
from .report import measure
from .similarity import similarity

__all__ = [
    "ClassSimilarity",
    "EmbeddingCache",
    "average_pairwise_similarity",
    "class_similarity",
    "distinct_n",
    "label_distribution",
    "measure",
    "remote_clique",
    "similarity",
    "vocabulary_size",
]
