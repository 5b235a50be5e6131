"""The human loop's data: the rows chosen for a person, their marks in an append-only labels file beside the
dataset, and the same sample as CSV/JSONL for people who label elsewhere."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import datasets
import numpy as np

from ..metrics.embeddings import EmbeddingCache
from ..metrics.report import label_names, require_column
from .selection import choose_rows

LABELS_FILE = "human_labels.jsonl"
EXPORT_COLUMNS = ("row", "text", "label", "human_label", "out_of_scope")


@dataclass(frozen=True)
class Mark:
    """A person's verdict on one row: a label name, or out of scope; neither clears an earlier mark."""

    row: int
    text: str
    label: str | None = None
    out_of_scope: bool = False


def labels_path(dataset_path: str) -> str:
    """Where a dataset's labels live: inside its folder, or beside its file (`data.jsonl.human_labels.jsonl`)."""
    if os.path.isdir(dataset_path):
        return os.path.join(dataset_path, LABELS_FILE)
    return f"{dataset_path}.{LABELS_FILE}"


def sample_rows(
    dataset: datasets.Dataset, n: int, *, strategy: str = "diverse", seed: int = 0, text_column: str = "text",
    embedding_model: str | None = None,
) -> list[int]:
    """The rows a person should label (see `choose_rows`); the same arguments give the same rows."""
    if len(dataset) == 0:
        raise ValueError("dataset: it has no rows to label.")
    require_column(dataset, text_column, "text_column")
    if strategy == "random":
        return choose_rows(np.empty((len(dataset), 0), dtype=np.float32), n, strategy, seed)
    cache = EmbeddingCache(embedding_model)
    try:
        return choose_rows(cache.embed(dataset[text_column]), n, strategy, seed)
    finally:
        cache.close()


def check_mark(mark: Mark, dataset: datasets.Dataset, names: Sequence[str] | None, text_column: str = "text") -> None:
    """Raise an error naming the problem when `mark` names an unknown row or label (of `names`, unless None), or
    its text differs."""
    if not 0 <= mark.row < len(dataset):
        raise ValueError(f"row: {mark.row} is not a row of the dataset (it has {len(dataset)} rows).")
    if dataset[mark.row][text_column] != mark.text:
        raise ValueError(
            f"row {mark.row}: its text differs from the dataset's; these labels were made for another dataset."
        )
    if mark.label is not None and names is not None and mark.label not in names:
        raise ValueError(f"row {mark.row}: label {mark.label!r} is not one of {list(names)}.")
    if mark.label is not None and mark.out_of_scope:
        raise ValueError(f"row {mark.row}: give a label or mark it out of scope, not both.")


class LabelsFile:
    """The append-only JSONL file of marks. The latest mark of a row wins, so nothing is ever rewritten and a
    crash can lose at most the line being written (which is then skipped)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def add(self, mark: Mark) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(mark), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read(self) -> dict[int, Mark]:
        """The current mark of every marked row."""
        if not os.path.exists(self.path):
            return {}
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        marks: dict[int, Mark] = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                mark = Mark(**json.loads(line))
            except (json.JSONDecodeError, TypeError) as err:
                if number == len(lines):  # the last line, cut short by a crash while it was written
                    break
                raise ValueError(f"{self.path}, line {number}: not a mark ({err}); fix or delete that line.") from err
            if mark.label is None and not mark.out_of_scope:
                marks.pop(mark.row, None)
            else:
                marks[mark.row] = mark
        return marks


def human_labels(marks: Iterable[Mark]) -> tuple[list[str], list[str]]:
    """Texts and labels of the rows a person labelled (in scope), for `ProxyRelabeler.fit`."""
    labelled = [mark for mark in marks if mark.label is not None]
    return [mark.text for mark in labelled], [mark.label for mark in labelled]


def checked_marks(path: str, dataset: datasets.Dataset, names: Sequence[str] | None,
                  text_column: str = "text") -> dict[int, Mark]:
    """The marks of the labels file at `path`, each checked against the dataset's rows and label `names`."""
    require_column(dataset, text_column, "text_column")
    marks = LabelsFile(path).read()
    for mark in marks.values():
        try:
            check_mark(mark, dataset, names, text_column)
        except ValueError as err:
            raise ValueError(f"{path}: {err} Fix or delete that mark, or give the labels file made for this "
                             "dataset (--labels FILE).") from err
    return marks


def read_human_labels(source: str) -> dict[str, str]:
    """{text: label} from a labels file written by `hf-llmgen annotate`, or the one inside a dataset folder."""
    path = labels_path(source) if os.path.isdir(source) else source
    if not os.path.isfile(path):
        raise ValueError(f"human_labels: {path} does not exist; give a labels file from `hf-llmgen annotate` or "
                         "the dataset folder holding one.")
    texts, labels = human_labels(LabelsFile(path).read().values())
    return dict(zip(texts, labels))


def scope_marks(marks: Iterable[Mark]) -> tuple[list[str], list[bool]]:
    """Texts of every marked row and whether it is in scope, for `ScopeFilter.fit`."""
    marks = list(marks)
    return [mark.text for mark in marks], [not mark.out_of_scope for mark in marks]


def sample_items(dataset: datasets.Dataset, rows: Sequence[int], marks: dict[int, Mark], text_column: str = "text",
                 label_column: str | None = "label") -> list[dict]:
    """Each sample row as shown to a person: row, text, label (the dataset's, as a name), human_label and
    out_of_scope (from its mark, if any)."""
    sample = dataset.select(rows)
    has_labels = label_column is not None and label_column in sample.column_names
    labels = label_names(sample, label_column)[0] if has_labels else [None] * len(rows)
    return [
        {"row": row, "text": text, "label": label, "human_label": marks[row].label if row in marks else None,
         "out_of_scope": row in marks and marks[row].out_of_scope}
        for row, text, label in zip(rows, sample[text_column], labels)
    ]


def export_sample(path: str, dataset: datasets.Dataset, rows: Sequence[int], marks: dict[int, Mark],
                  text_column: str = "text", label_column: str | None = "label") -> None:
    """Write the sample (see `sample_items`) as CSV or JSONL, by extension; a person fills in human_label or
    out_of_scope where they are blank."""
    records = sample_items(dataset, rows, marks, text_column, label_column)
    if path.endswith(".csv"):
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows({**r, "human_label": r["human_label"] or "", "out_of_scope": "yes" if r["out_of_scope"]
                              else ""} for r in records)
    elif path.endswith(".jsonl"):
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        raise ValueError(f"export: {path} must end in .csv or .jsonl.")


def read_import(path: str) -> list[Mark]:
    """Marks from an exported sample a person filled in; rows left blank are skipped."""
    if not os.path.isfile(path):
        raise ValueError(f"import: {path} is not a file; give the sample `hf-llmgen annotate DATASET --export "
                         "FILE` wrote, filled in.")
    if path.endswith(".csv"):
        with open(path, encoding="utf-8", newline="") as f:
            records = list(csv.DictReader(f))
    elif path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    else:
        raise ValueError(f"import: {path} must end in .csv or .jsonl.")
    marks = []
    for number, record in enumerate(records, start=1):
        missing = {"row", "text"} - set(record)
        if missing:
            raise ValueError(f"{path}, record {number}: lacks {sorted(missing)}; keep the exported columns.")
        label = (record.get("human_label") or "").strip() or None
        out = str(record.get("out_of_scope") or "").strip().lower() in ("yes", "true", "1", "x")
        if label or out:
            marks.append(Mark(int(record["row"]), record["text"], label, out))
    return marks
