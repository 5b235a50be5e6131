"""`measure`: every data-quality metric of a dataset (and its similarity to a reference) in one call."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

import datasets

from ..generation.label_check import EmbeddingChecker
from ..task import Label, TaskSpec, load_task
from .accuracy import label_accuracy, load_oracle
from .diversity import average_pairwise_similarity, class_similarity, remote_clique
from .embeddings import EmbeddingCache
from .labels import label_distribution, pass_rates
from .lexical import distinct_n, vocabulary_size
from .similarity import similarity


def require_column(dataset: datasets.Dataset, column: str, option: str, which: str = "the dataset") -> None:
    """Raise an error naming `option` and the columns there are when `dataset` lacks `column`."""
    if column not in dataset.column_names:
        raise ValueError(
            f"{option}: {which} has no column {column!r} (it has {dataset.column_names}); "
            f"name the right one with {option}=..."
        )


def _column(dataset: datasets.Dataset, column: str, option: str) -> list[Any]:
    require_column(dataset, column, option)
    return dataset[column]


def label_names(dataset: datasets.Dataset, column: str) -> tuple[list[str], list[str] | None]:
    """The rows' labels as names, and all label names when the column is a ClassLabel."""
    values = _column(dataset, column, "label_column")
    feature = dataset.features[column]
    if is_multi_label(feature):
        raise ValueError(f"label_column: {column!r} holds several labels per row; this step takes one label per row.")
    if isinstance(feature, datasets.ClassLabel):
        return [feature.int2str(v) for v in values], list(feature.names)
    return [str(v) for v in values], None


def is_multi_label(feature: Any) -> bool:
    """Whether a label column's feature is a list of labels per row."""
    return isinstance(feature, (datasets.List, datasets.Sequence, list))


def label_memberships(dataset: datasets.Dataset, column: str) -> tuple[list[str], list[str] | None, list[int] | None]:
    """Labels as names, all label names (for ClassLabels), and for multi-label data the row of each label
    (a row with several labels counts once per label); single-label data gives one label per row and None."""
    feature = dataset.features.get(column)
    if not is_multi_label(feature):
        return (*label_names(dataset, column), None)
    inner = feature.feature if hasattr(feature, "feature") else feature[0]
    rows, labels = [], []
    for row, values in enumerate(_column(dataset, column, "label_column")):
        rows += [row] * len(values)
        labels += [inner.int2str(v) if isinstance(inner, datasets.ClassLabel) else str(v) for v in values]
    return labels, list(inner.names) if isinstance(inner, datasets.ClassLabel) else None, rows


def class_names(dataset: datasets.Dataset, column: str) -> list[str]:
    """The label names: a ClassLabel's names, or the sorted distinct values of a string column."""
    require_column(dataset, column, "label_column")
    feature = dataset.features[column]
    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names)
    if is_multi_label(feature):
        raise ValueError(
            f"label_column: {column!r} holds several labels per row; this step takes one label per row "
            "(for label sets use hf_llmgen.interventions.MultiLabelProxyRelabeler, and measure)."
        )
    if feature != datasets.Value("string"):
        raise ValueError(
            f"label_column: {column!r} holds {feature}, not label names; cast it to a ClassLabel "
            "(dataset.cast_column(column, datasets.ClassLabel(names=[...]))) so labels have names."
        )
    return sorted(dataset.unique(column))


def rows_per_label(dataset: datasets.Dataset) -> dict[str, int]:
    """Rows having each label, from `label` or, for multi-label data, `labels`; every label name of a
    ClassLabel column, even one no row has."""
    labels, names, _ = label_memberships(dataset, "label" if "label" in dataset.column_names else "labels")
    counts = Counter(labels)
    return {name: counts[name] for name in names or sorted(counts)}


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested metrics as one level of numbers, keys joined by '/': {'a': {'b': 1}} -> {'a/b': 1}; None (a
    figure with nothing to measure, e.g. the pass rate of a label without rows) is left out."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}/"))
        elif value is not None:
            flat[f"{prefix}{key}"] = value
    return flat


def measure(
    dataset: datasets.Dataset,
    reference: datasets.Dataset | None = None,
    *,
    text_column: str = "text",
    label_column: str | None = "label",
    metric: str = "cosine",
    embeddings: EmbeddingCache | None = None,
    oracle: Any = None,
    label_map: Mapping[str, str] | None = None,
    task: Any = None,
) -> dict[str, Any]:
    """Diversity, lexical and label metrics of `dataset`, its similarity to `reference` when given, and its
    label accuracy when an `oracle` is given (a text-classification pipeline, or a model name or folder).

    Embeddings come from `embeddings` (default: a cache with the packaged all-MiniLM-L6-v2), each text once.
    label_map: oracle label -> dataset label, when the oracle names them differently.
    task: a task spec (or preset name, or path) whose label descriptions and keywords make the label check's
    prototypes; without it the label names alone do. The check's per-label pass rates (`label_check`) come
    from the dataset's `label_check` column where it has one (single-label data).
    Scalars sit at the top level; per-class figures and the label distribution are nested dicts.
    """
    if oracle is not None and label_column is None:
        raise ValueError("oracle: label accuracy needs the labels; name their column with label_column=...")
    texts = _column(dataset, text_column, "text_column")
    if len(texts) < 2:
        raise ValueError(f"dataset: needs at least 2 rows to measure diversity, got {len(texts)}.")
    oracle = load_oracle(oracle)
    cache = embeddings or EmbeddingCache()
    vectors = cache.embed(texts)
    result: dict[str, Any] = {
        "rows": len(texts),
        f"remote_clique_{metric}": remote_clique(vectors, metric),
        "average_pairwise_similarity": average_pairwise_similarity(vectors),
        "vocabulary_size": vocabulary_size(texts),
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
    }
    if reference is not None:
        reference_vectors = cache.embed(_column(reference, text_column, "text_column"))
        result[f"similarity_{metric}"] = similarity(vectors, reference_vectors, metric)
    if label_column is not None:
        labels, names, rows = label_memberships(dataset, label_column)
        by_class = class_similarity(vectors if rows is None else vectors[rows], labels)
        result["intra_class_similarity"] = by_class.intra_mean
        result["inter_class_similarity"] = by_class.inter_mean
        result["per_class_similarity"] = by_class.intra
        result["label_distribution"] = label_distribution(labels, names)
        if oracle is not None and rows is not None:
            raise ValueError("oracle: label accuracy needs one label per row; this data has several per row.")
        if rows is None:
            names_present = names or sorted(set(labels))
            checked_labels = _checked_labels(dataset, texts, labels, names_present, cache, task)
            result["label_check"] = pass_rates(labels, checked_labels, names_present)
        if oracle is not None:
            checked = label_accuracy(texts, labels, oracle, names=names, label_map=label_map)
            result["label_accuracy"] = checked.accuracy
            result["per_class_label_accuracy"] = checked.per_class
    if embeddings is None:
        cache.close()
    return result


def _checked_labels(dataset: datasets.Dataset, texts: list[str], labels: list[str], names: list[str],
                    cache: EmbeddingCache, task: Any) -> list[str]:
    """The label check's label per row: the dataset's `label_check` column, else the embedding check now."""
    if "label_check" in dataset.column_names:
        return dataset["label_check"]
    spec = load_task(task) if task is not None else TaskSpec("measured", "text", tuple(Label(n, n) for n in names))
    return [verdict.label for verdict in EmbeddingChecker(spec, cache.embed).check(texts, labels)]
