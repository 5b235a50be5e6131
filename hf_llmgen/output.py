"""Running a generation into an output folder: the builder's train split and removed rows, its summary, its card."""

from __future__ import annotations

import os
from typing import Any

import datasets
from datasets.exceptions import DatasetGenerationError

from .backends import BackendUnavailable, make_backend
from .builder import generation_summary, removed_rows
from .cards import run_record, write_card
from .folders import GENERATION_SUMMARY, OUTPUT_ENTRIES
from .generation.runner import LabelNotWritable, more_rows_advice, pass_rate_warnings
from .metrics.report import rows_per_label
from .staging import staged, write_json
from .task import load_task


def prepare(builder: datasets.DatasetBuilder) -> None:
    """Generate the builder's rows into its cache; a run that stopped raises its own reason (a label the model
    cannot write, the backend gone, a bad option), not the `datasets` error around it."""
    try:
        builder.download_and_prepare()
    except DatasetGenerationError as err:
        if isinstance(err.__cause__, (BackendUnavailable, LabelNotWritable, ValueError)):
            raise err.__cause__ from None
        raise


def write_generation(builder: datasets.DatasetBuilder, output: str, *, fmt: str = "arrow",
                     task_argument: str | None = None, option: str = "--output",
                     extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a prepared builder's rows into `output` (whole, replacing an earlier run's): the train split, the
    removed rows, generation_summary.json (with `extra` added) and the card; return the summary.

    fmt: 'arrow' (save_to_disk) or 'parquet'. task_argument: how the task was given, for the card's
    reproducing call. option: what chose `output`, named in a file-system error.
    """
    summary = generation_summary(builder).to_dict()
    if summary["rows"] == 0:  # datasets cannot load a split of no rows: say why there are none
        raise ValueError(f"generate: the run kept no rows after {summary['requests']} requests (dropped: "
                         f"{summary['dropped']}, failed: {summary['failed']}); "
                         f"{more_rows_advice(summary['max_cost_reached'])}.")
    dataset = builder.as_dataset(split="train")
    removed = removed_rows(builder)
    task = load_task(builder.config.task)
    summary["rows_per_label"] = rows_per_label(dataset)
    summary["label_check_warnings"] = pass_rate_warnings(summary["label_check"], builder.config.label_check)
    summary["removed_rows"] = len(removed) if removed is not None else 0
    summary.update(extra or {})
    summary["run"] = run_record(task, builder.config, task_argument or task.name, make_backend(builder.config).model_id)
    with staged(output, option, OUTPUT_ENTRIES) as folder:  # no earlier split or summary stays
        for split, data in (("train", dataset), ("removed", removed)):
            if data is not None and fmt == "parquet":
                data.to_parquet(os.path.join(folder, f"{split}.parquet"))
            elif data is not None:
                data.save_to_disk(os.path.join(folder, split))
        write_json(os.path.join(folder, GENERATION_SUMMARY), summary)
        write_card(folder)
    return summary
