"""The study's grid: how generation is diversified (the paper's settings, on top of the library's defaults) times
which human intervention follows."""

from __future__ import annotations

from .interventions import INTERVENTIONS

BASE = {"prompt": "direct", "label_check": "embedding", "label_policy": "drop"}  # the library's defaults
HIGH_TEMPERATURE = 1.0  # the default is 0.7

DIVERSIFICATIONS = {
    "none": {**BASE, "logit_suppression": 0.0},
    "logit suppression": {**BASE, "logit_suppression": 1.0},
    "high temperature": {**BASE, "logit_suppression": 0.0, "temperature": HIGH_TEMPERATURE},
    "both": {**BASE, "logit_suppression": 1.0, "temperature": HIGH_TEMPERATURE},
    "attributed prompts": {**BASE, "logit_suppression": 0.0, "prompt": "attributes"},
}

SET_BY_STUDY = ("task", "num_examples", "seed",
                *sorted({name for options in DIVERSIFICATIONS.values() for name in options}))  # not the user's

GRIDS = {  # interventions make no LLM call, so every grid takes them all; diversifications cost generation time
    "default": (("none", "logit suppression", "attributed prompts"), tuple(INTERVENTIONS)),
    "full": (tuple(DIVERSIFICATIONS), tuple(INTERVENTIONS)),
}


def grid_cells(grid: str | tuple) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(diversifications, interventions) of a named grid or of a (diversifications, interventions) pair."""
    if isinstance(grid, str):
        if grid not in GRIDS:
            raise ValueError(f"grid: {grid!r} is not a grid; use one of {list(GRIDS)}, or a pair of lists.")
        return GRIDS[grid]
    diversifications, interventions = (tuple(part) for part in grid)
    for given, known, what in ((diversifications, DIVERSIFICATIONS, "diversifications"),
                               (interventions, INTERVENTIONS, "interventions")):
        unknown = [name for name in given if name not in known]
        if unknown or not given:
            raise ValueError(f"grid: {what} {unknown or '(none)'} unknown; choose from {list(known)}.")
    return diversifications, interventions
