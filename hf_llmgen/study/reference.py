"""The real data a study measures generated rows against: its train and test rows, the oracle, the downstream
classifier (logistic regression on sentence embeddings, or fine-tuned as `hf-llmgen train` does) and the baselines
that need no generated rows."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np

from ..metrics.accuracy import load_oracle, oracle_predictions
from ..task import TaskSpec

CLASSIFIERS = ("embedding", "finetune")  # the downstream classifier's kinds
Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> their embeddings, e.g. an EmbeddingHandle


@dataclass(frozen=True)
class RealData:
    """A task's real labelled rows ({"text", "label"}): `train` shuffled, `test` a shuffled sample."""

    train: list[dict]
    test: list[dict]


def read_rows(path: str) -> list[dict]:
    """The rows of a JSON-lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_path(folder: str, split: str) -> str | None:
    """`split`.jsonl in `folder`, else the one `split`_*.jsonl there (e.g. train_subset8k.jsonl), else None."""
    exact = os.path.join(folder, f"{split}.jsonl")
    if os.path.exists(exact):
        return exact
    variants = sorted(glob.glob(os.path.join(folder, f"{split}_*.jsonl")))
    return variants[0] if len(variants) == 1 else None


def load_real_data(data: str, task: TaskSpec, test_rows: int = 2000, seed: int = 0) -> RealData:
    """The task's real rows from `data`/TASK (or `data` itself): train.jsonl and test.jsonl with `text` and `label`.

    Raises ValueError naming `data` and what to put there when a split is missing or its labels are not the task's.
    """
    folder = os.path.join(data, task.name) if os.path.isdir(os.path.join(data, task.name)) else data
    splits = {}
    for split in ("train", "test"):
        path = split_path(folder, split)
        if path is None:
            raise ValueError(
                f"data: no real {split} split for task {task.name!r} in {folder}; put {split}.jsonl there (one JSON "
                "object per line with 'text' and 'label'), or point --data at the folder that holds it."
            )
        rows = read_rows(path)
        if not rows or any(not {"text", "label"} <= set(row) for row in rows):
            raise ValueError(f"data: {path} must hold rows with 'text' and 'label' (found {len(rows)} rows).")
        unknown = sorted({str(row["label"]) for row in rows} - set(task.label_names))
        if unknown:
            raise ValueError(f"data: {path} has labels {unknown[:5]} that task {task.name!r} does not have "
                             f"({task.label_names}); use the task whose labels the data uses.")
        order = np.random.default_rng(seed).permutation(len(rows))
        splits[split] = [{"text": rows[i]["text"], "label": str(rows[i]["label"])} for i in order]
    return RealData(train=splits["train"], test=splits["test"][:test_rows])


def fit_classifier(vectors: np.ndarray, labels: Sequence[str]) -> Any:
    """The downstream classifier (and the oracle): logistic regression on sentence embeddings."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, C=10.0).fit(vectors, list(labels))


def downstream_predictions(classifier: str, texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str],
                           test_texts: Sequence[str], test_vectors: np.ndarray) -> list[str]:
    """The test rows' labels from a classifier trained on (texts, labels): "embedding", `fit_classifier` on the
    texts' vectors (seconds on a CPU); "finetune", the packaged MiniLM fine-tuned by `hf_llmgen.train.
    train_classifier` with its defaults, what `hf-llmgen train` runs (minutes on a CPU)."""
    if classifier == "embedding":
        return list(fit_classifier(vectors, labels).predict(test_vectors))
    from ..train import train_classifier  # imports torch: only for this classifier

    with tempfile.TemporaryDirectory() as folder:
        train_classifier(datasets.Dataset.from_dict({"text": list(texts), "label": list(labels)}), folder)
        return oracle_predictions(load_oracle(folder), test_texts)


def scores(predicted: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1 (over the true labels' classes: an abstention, "", only costs recall)."""
    from sklearn.metrics import f1_score

    return {"accuracy": float(np.mean(np.array(predicted) == np.array(labels))),
            "macro_f1": float(f1_score(list(labels), list(predicted), labels=sorted(set(labels)), average="macro"))}


def zero_shot(names: Sequence[str], embed: Embed, test_vectors: np.ndarray) -> list[str]:
    """Each text's nearest label name by embedding (needs no data at all)."""
    return list(np.array(names)[(test_vectors @ embed(list(names)).T).argmax(axis=1)])

