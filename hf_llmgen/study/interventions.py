"""The study's human interventions, with the oracle standing in for the person, through the library's own
transforms: label replacement (LR: a proxy fitted on k oracle-labelled rows, or the oracle itself) and out-of-scope
filtering (OOSF: a proxy fitted on k rows marked in or out of scope)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import numpy as np

from ..interventions import ProxyRelabeler, ScopeFilter
from ..interventions.selection import choose_rows
from ..metrics.pairwise import nearest_cosine_similarity

OUT_OF_SCOPE_SHARE = 0.05  # the share of real held-out rows that the out-of-scope rule would call out of scope


@dataclass(frozen=True)
class Intervention:
    """relabel: "proxy", "oracle" or None; human_rows: rows a person labels or marks; filter_scope: run OOSF."""

    relabel: str | None = None
    human_rows: int = 0
    filter_scope: bool = False


INTERVENTIONS = {
    "none": Intervention(),
    "LR proxy k=90": Intervention("proxy", 90),
    "LR proxy k=180": Intervention("proxy", 180),
    "LR oracle": Intervention("oracle"),
    "OOSF k=180": Intervention(None, 180, True),
    "LR + OOSF k=180": Intervention("proxy", 180, True),
}


def in_scope_marks(vectors: np.ndarray, real: np.ndarray, held_out: np.ndarray,
                   share: float = OUT_OF_SCOPE_SHARE) -> np.ndarray:
    """Simulated scope marks: a row is in scope when its nearest real row (in `real`) is at least as close as that
    of all but `share` of the real `held_out` rows; rows farther from all real data are out of scope."""
    threshold = np.quantile(nearest_cosine_similarity(held_out, real), share)
    return nearest_cosine_similarity(vectors, real) >= threshold


def human_rows(vectors: np.ndarray, k: int, seed: int, strategy: str = "diverse") -> list[int]:
    """The rows the simulated person labels or marks: `k` of them (all when there are fewer), chosen as
    `hf-llmgen annotate` chooses them (`strategy`: "diverse" or "random", see `choose_rows`) with `seed`."""
    if k == 0:
        return []
    return sorted(choose_rows(vectors, min(k, len(vectors)), strategy, seed))


def intervene(
    intervention: Intervention,
    data: datasets.Dataset,
    human: Sequence[int],
    oracle_labels: Sequence[str],
    in_scope: np.ndarray,
    embedding_cache_path: str | None = None,
) -> tuple[datasets.Dataset | None, dict]:
    """The rows after `intervention` (None when it cannot run, e.g. too few human labels of a class) and what it
    did: {"human_rows", "relabelled", "removed", "note"}. `human` are the rows the person labels or marks (from
    `human_rows`); `oracle_labels` and `in_scope` are per row of `data`."""
    names = data.features["label"].names
    texts = data["text"]
    info: dict = {"human_rows": len(human)}
    before = list(data["label"])
    if intervention.relabel == "oracle":
        oracle_ids = [names.index(label) for label in oracle_labels]
        data = data.map(lambda batch, rows: {"label": [oracle_ids[i] for i in rows]}, with_indices=True, batched=True,
                        keep_in_memory=True, desc="relabel (oracle)")
    elif intervention.relabel == "proxy":
        relabeler = ProxyRelabeler(names, embedding_cache_path=embedding_cache_path)
        try:
            relabeler.fit([texts[i] for i in human], [oracle_labels[i] for i in human])
        except ValueError as err:
            return None, {**info, "note": f"label replacement could not run: {err}"}
        if relabeler.left_out:
            info["note"] = (f"the proxy left out {relabeler.left_out} (under 2 of the person's rows each): their "
                            "rows kept their label")
        data = data.map(relabeler, batched=True, keep_in_memory=True, desc="relabel (proxy)")
    info["relabelled"] = int(np.sum(np.array(before) != np.array(data["label"])))
    info["removed"] = 0
    if intervention.filter_scope:
        scope = ScopeFilter(embedding_cache_path=embedding_cache_path)
        try:
            scope.fit([texts[i] for i in human], [bool(in_scope[i]) for i in human])
        except ValueError as err:
            note = f"out-of-scope filter not fitted, nothing removed: {err}"
            info["note"] = f"{info['note']}; {note}" if "note" in info else note
            return data, info
        parts = scope.split(data, keep_in_memory=True)
        data, info["removed"] = parts["kept"], len(parts["removed"])
    return data, info
