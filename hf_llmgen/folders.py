"""The layout of a command's output folder (`generate`, `relabel`, `filter`): its splits, saved either way they
write them, and the run files beside them that the card is built from."""

from __future__ import annotations

import os
import shutil

import datasets

SPLITS = ("train", "removed")
GENERATION_SUMMARY = "generation_summary.json"
RELABEL_SUMMARY = "relabel_summary.json"
FILTER_SUMMARY = "filter_summary.json"
MEASURE_FILE = "measure.json"
FIGURE_FILE = "measure.png"
TARGETED_REPORT = "targeted_report.json"  # `hf-llmgen target`: the round these rows were added in, before and after
CARD = "README.md"
HISTORY_FILES = (GENERATION_SUMMARY, RELABEL_SUMMARY, FILTER_SUMMARY)  # what a later step's folder carries on
RUN_FILES = (*HISTORY_FILES, MEASURE_FILE, FIGURE_FILE, TARGETED_REPORT)  # what a push sends beside the splits and the card
OUTPUT_ENTRIES = (*(f"{split}{suffix}" for split in SPLITS for suffix in ("", ".parquet")), *RUN_FILES, CARD)


def saved_split(folder: str, split: str) -> datasets.Dataset | None:
    """A split of the folder (saved with save_to_disk or as <split>.parquet), or None."""
    if os.path.exists(os.path.join(folder, split, "state.json")):
        return datasets.load_from_disk(os.path.join(folder, split))
    if os.path.exists(os.path.join(folder, f"{split}.parquet")):
        return datasets.Dataset.from_parquet(os.path.join(folder, f"{split}.parquet"))
    return None


def carry_history(source: str, folder: str) -> None:
    """Copy into `folder` what `source` (a folder, else nothing) holds of the steps that made it and this step
    did not write itself: their summaries, so that the card tells the whole story; the rows they removed, so
    that none is lost; the card, whose licence and source datasets the new card keeps. The measured quality is
    not carried: it described the rows before this step."""
    if not os.path.isdir(source):
        return
    for name in (*HISTORY_FILES, CARD, "removed", "removed.parquet"):
        origin, target = os.path.join(source, name), os.path.join(folder, name)
        if os.path.lexists(target) or not os.path.exists(origin):
            continue
        if os.path.isdir(origin):
            shutil.copytree(origin, target)
        else:
            shutil.copyfile(origin, target)


def with_earlier_removed(removed: datasets.Dataset, source: str) -> datasets.Dataset:
    """`removed` after the rows an earlier step removed (the `removed` split of `source`, when it is a folder
    holding one), in one split with `removed`'s columns: a column the earlier rows lack is empty for them."""
    earlier = saved_split(source, "removed") if os.path.isdir(source) else None
    if earlier is None:
        return removed
    for name, feature in removed.features.items():
        if name not in earlier.column_names:
            earlier = earlier.add_column(name, [None] * len(earlier), feature=feature)
    earlier = earlier.select_columns(removed.column_names).cast(removed.features)
    return datasets.concatenate_datasets([earlier, removed])
