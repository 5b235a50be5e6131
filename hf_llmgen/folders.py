"""The splits of a command's output folder (`generate`, `relabel`, `filter`), saved either way they write them."""

from __future__ import annotations

import os

import datasets

SPLITS = ("train", "removed")


def saved_split(folder: str, split: str) -> datasets.Dataset | None:
    """A split of the folder (saved with save_to_disk or as <split>.parquet), or None."""
    if os.path.exists(os.path.join(folder, split, "state.json")):
        return datasets.load_from_disk(os.path.join(folder, split))
    if os.path.exists(os.path.join(folder, f"{split}.parquet")):
        return datasets.Dataset.from_parquet(os.path.join(folder, f"{split}.parquet"))
    return None
