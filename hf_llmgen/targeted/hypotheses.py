"""Hypotheses: what a blind spot's texts have in common, written by the LLM (or a person) as targets for
`prompt="targeted"`, kept in a YAML file a person can review, edit, add to or replace."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any, Mapping, Sequence

import yaml

from ..backends import Backend, Request, answers, make_backend
from ..generation.settings import GenerationSettings
from ..task import Target
from .blind_spots import BlindSpot

SHOWN_ERRORS = 4  # errors of a blind spot the LLM reads
KEPT_TEXTS = 3  # errors of a blind spot kept with its hypothesis, shown as examples when generating
MIN_WORDS, MAX_WORDS = 2, 30
_LEAD = re.compile(r"^(?:hypothesis|answer|the texts|these texts)\s*[:\-]\s*", re.IGNORECASE)
_FRAME_LEAD = re.compile(r"^(?:these|the) texts share a common (?:thread|theme) of\s+(?:being\s+)?", re.IGNORECASE)
_FRAME_TAIL = re.compile(r",\s*but (?:they differ|their differences)\b.*$", re.IGNORECASE)


def hypothesis_messages(spot: BlindSpot, text_type: str, descriptions: Mapping[str, str]) -> list[dict[str, str]]:
    """Chat messages asking what a blind spot's texts have in common (a description of their content, which the
    135M model gives far more often than an account of the classifier's mistake)."""

    def meaning(name: str) -> str:
        shown = name.replace("_", " ")
        described = descriptions.get(name, "")
        return f"'{shown}'" + (f" ({described})" if described and described != name else "")

    texts = "\n".join(f"- {text}" for text in spot.texts[:SHOWN_ERRORS])
    return [{"role": "user", "content": (
        f"Each of these texts ({text_type}) is {meaning(spot.label)}, not {meaning(spot.predicted)}:\n{texts}\n\n"
        "Describe in one sentence what these texts have in common."
    )}]


def parse_hypothesis(answer: str) -> tuple[str | None, str]:
    """The hypothesis in an answer (its first sentence without the model's frame, at most MAX_WORDS words), or
    None with the reason."""
    line = next((part.strip() for part in answer.strip().splitlines() if part.strip()), "")
    sentence = re.split(r"(?<=[.!?])\s", _LEAD.sub("", line.strip(" *\"'")), maxsplit=1)[0].strip(" \"'")
    words = _without_frame(sentence).split()
    if not words:
        return None, "empty"
    if sentence.endswith(":"):
        return None, "preamble"
    if len(words) < MIN_WORDS:
        return None, "too_short"
    return " ".join(words[:MAX_WORDS]), ""


def _without_frame(sentence: str) -> str:
    """The sentence without the 135M model's usual frame, "These texts share a common thread of ..., but they differ
    in their tone and style": the description the generator is to write to, which reads as a brief to follow
    rather than a text to echo (a contrast that says something, ", but they also ...", stays)."""
    core = _FRAME_TAIL.sub("", _FRAME_LEAD.sub("", sentence)).strip(" ,")
    if core == sentence or not core:
        return core
    return core[0].upper() + core[1:] + ("" if core.endswith((".", "!", "?")) else ".")


def write_hypotheses(
    spots: Sequence[BlindSpot], backend: Backend, text_type: str, descriptions: Mapping[str, str] | None = None,
) -> tuple[list[Target | None], Counter]:
    """An LLM-written target for each blind spot (greedy, one request each; None where its answer was dropped),
    and the count of answers dropped by reason."""
    requests = [Request(hypothesis_messages(spot, text_type, descriptions or {}), 64, 0.0, 1.0, 0) for spot in spots]
    targets: list[Target | None] = []
    dropped: Counter = Counter()
    for spot, answer in zip(spots, answers(backend, requests)):
        hypothesis, reason = parse_hypothesis(answer)
        if hypothesis is None:
            dropped[reason] += 1
        targets.append(None if hypothesis is None else
                       Target(spot.label, hypothesis, spot.predicted, "llm", tuple(spot.texts[:KEPT_TEXTS])))
    return targets, dropped


def describe_blind_spots(
    spots: Sequence[BlindSpot], settings: GenerationSettings, text_type: str, descriptions: Mapping[str, str],
) -> tuple[list[Target], list[BlindSpot], Counter]:
    """`write_hypotheses` with the backend of `settings` (loaded and closed here): the targets written, the blind
    spots they describe (same order) and the answers dropped by reason."""
    backend = make_backend(settings)
    try:
        written, dropped = write_hypotheses(spots, backend, text_type, descriptions)
    finally:
        backend.close()
    kept = [(spot, target) for spot, target in zip(spots, written) if target is not None]
    return [target for _, target in kept], [spot for spot, _ in kept], dropped


def with_error_texts(targets: Sequence[Target], spots: Sequence[BlindSpot]) -> list[Target]:
    """The targets, where one has no texts given the first `KEPT_TEXTS` errors of a blind spot of its (label,
    mistaken_for) pair (the pair's n-th target its n-th spot, round again when there are fewer), so a hand-written
    hypothesis shows the generator real texts of its blind spot as an LLM-written one does."""
    by_pair: dict[tuple[str, str], list[BlindSpot]] = {}
    for spot in spots:
        by_pair.setdefault((spot.label, spot.predicted), []).append(spot)
    seen: Counter = Counter()
    filled = []
    for target in targets:
        pair = (target.label, target.mistaken_for)
        if target.texts or pair not in by_pair:
            filled.append(target)
            continue
        spot = by_pair[pair][seen[pair] % len(by_pair[pair])]
        seen[pair] += 1
        filled.append(dataclasses.replace(target, texts=tuple(spot.texts[:KEPT_TEXTS])))
    return filled


def save_hypotheses(path: str, targets: Sequence[Target], spots: Sequence[BlindSpot] = (),
                    header: Mapping[str, Any] | None = None) -> None:
    """Write the targets as a hypotheses file, after `header` (what made them); with the blind spot of each target
    (same order), its entry also says how many errors it covers and their mean confidence."""
    entries = []
    for i, target in enumerate(targets):
        entry: dict[str, Any] = {"label": target.label, "mistaken_for": target.mistaken_for,
                                 "hypothesis": target.hypothesis, "source": target.source}
        if spots:
            entry.update(errors=spots[i].size, mean_confidence=round(spots[i].mean_confidence, 4))
        entries.append({**entry, "texts": list(target.texts)})
    note = ("# Hypotheses about a classifier's blind spots, one per group of its high-confidence errors.\n"
            "# Review them: edit, add or remove entries; set `source: human` on one you write or rewrite.\n"
            "# Generate texts for them with prompt='targeted' and targets=<this file>.\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(note)
        yaml.safe_dump({**(header or {}), "hypotheses": entries}, f, sort_keys=False, allow_unicode=True, width=120)
