"""Label accuracy: how often a dataset's labels agree with an oracle text classifier."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from .embeddings import chunks

_GENERIC_LABEL = re.compile(r"LABEL_(\d+)")
_ORACLE_CHUNK = 256


@dataclass(frozen=True)
class LabelAccuracy:
    """Agreement of given labels with an oracle: overall, per given label, and the disagreeing pairs' counts."""

    accuracy: float
    per_class: dict[str, float]
    confusions: dict[str, dict[str, int]]


def agreement(labels: Sequence[str], predictions: Sequence[str]) -> LabelAccuracy:
    """Share of rows whose label equals the oracle's prediction, overall and per label, with the confusions."""
    if len(labels) != len(predictions):
        raise ValueError(f"labels and predictions differ in length: {len(labels)} vs {len(predictions)}.")
    if not labels:
        raise ValueError("labels: there are no rows to check.")
    rows, agreed, confusions = Counter(labels), Counter(), {}
    for label, predicted in zip(labels, predictions):
        if label == predicted:
            agreed[label] += 1
        else:
            confusions.setdefault(label, Counter())[predicted] += 1
    return LabelAccuracy(
        accuracy=sum(agreed.values()) / len(labels),
        per_class={label: agreed[label] / count for label, count in rows.items()},
        confusions={label: dict(counts) for label, counts in confusions.items()},
    )


def oracle_label_map(
    oracle_labels: Sequence[str], names: Sequence[str], label_map: Mapping[str, str] | None = None
) -> dict[str, str]:
    """How each oracle label maps to a dataset label name.

    `label_map` wins when given; otherwise the names must match (case-insensitively), or the oracle must have
    generic LABEL_i names, one per dataset label, read as the dataset's i-th label.
    """
    by_lower = {name.lower(): name for name in names}
    if label_map is not None:
        unknown = sorted(set(label_map.values()) - set(names))
        if unknown:
            raise ValueError(f"label_map: {unknown} are not dataset labels; use names from {list(names)}.")
        return {label: label_map.get(label, label) for label in oracle_labels}
    if all(label.lower() in by_lower for label in oracle_labels):
        return {label: by_lower[label.lower()] for label in oracle_labels}
    indices = [_GENERIC_LABEL.fullmatch(label) for label in oracle_labels]
    if len(oracle_labels) == len(names) and all(indices):
        return {label: names[int(match.group(1))] for label, match in zip(oracle_labels, indices)}
    raise ValueError(
        f"oracle: its labels {list(oracle_labels)} do not match the dataset's labels {list(names)}; "
        "pass label_map={oracle_label: dataset_label}."
    )


def load_oracle(oracle: Any, device: str | int | None = None) -> Any:
    """A text-classification pipeline: `oracle` itself, or one loaded from a model name or folder."""
    if not isinstance(oracle, str):
        return oracle
    from transformers import pipeline

    return pipeline("text-classification", model=oracle, device=device)


def oracle_outputs(oracle: Any, texts: Sequence[str], batch_size: int = 32) -> Iterator[dict[str, Any]]:
    """The oracle pipeline's top label and score ({"label", "score"}) for each text, in chunks (flat memory)."""
    for chunk in chunks(texts, _ORACLE_CHUNK):
        yield from oracle(list(chunk), batch_size=batch_size, truncation=True)


def oracle_predictions(oracle: Any, texts: Sequence[str], batch_size: int = 32) -> list[str]:
    """The oracle pipeline's top label for each text."""
    return [output["label"] for output in oracle_outputs(oracle, texts, batch_size)]


def label_accuracy(
    texts: Sequence[str],
    labels: Sequence[str],
    oracle: Any,
    *,
    names: Sequence[str] | None = None,
    label_map: Mapping[str, str] | None = None,
    batch_size: int = 32,
) -> LabelAccuracy:
    """Agreement of `labels` with an oracle classifier's predictions on `texts`.

    oracle: a transformers text-classification pipeline, or a model name or folder to load one from.
    names: every dataset label name (default: those in `labels`), to map the oracle's labels onto.
    label_map: oracle label -> dataset label, when their names differ.
    """
    pipe = load_oracle(oracle)
    names = list(names) if names is not None else sorted(set(labels))
    id2label = pipe.model.config.id2label
    mapping = oracle_label_map([id2label[i] for i in sorted(id2label)], names, label_map)
    predictions = [mapping[label] for label in oracle_predictions(pipe, texts, batch_size)]
    return agreement(labels, predictions)
