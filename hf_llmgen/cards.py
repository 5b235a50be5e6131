"""Dataset cards: the README.md of an output folder, built from the `model_cards/` template and from what the
folder holds alone (its splits, the generation summary, the interventions' summaries, the measured quality),
so that every step that changes the folder writes its card again."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import fields
from importlib import resources
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from .folders import (FIGURE_FILE, FILTER_SUMMARY, GENERATION_SUMMARY, MEASURE_FILE, RELABEL_SUMMARY, TARGETED_REPORT,
                      saved_split)
from .generation.prompts import uses_attributes
from .generation.settings import GenerationSettings
from .metrics.report import rows_per_label
from .task import TaskSpec, parse_task

GENERATOR_LICENCES = {"smollm2": "apache-2.0"}  # a lower-cased part of the model id -> its licence on the Hub
KEPT_METADATA = ("license", "source_datasets")  # chosen by the user at push time; a rebuilt card keeps them


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def options(settings: GenerationSettings) -> dict[str, Any]:
    """Every generation option but the task."""
    return {f.name: getattr(settings, f.name) for f in fields(GenerationSettings) if f.name != "task"}


def changed_options(settings: GenerationSettings) -> dict[str, Any]:
    """The options that differ from their defaults, without the task."""
    defaults = options(GenerationSettings())
    return {name: value for name, value in options(settings).items() if value != defaults[name]}


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """The options as a card shows them: human labels by their count, URLs without user or password."""
    shown = dict(values)
    if shown.get("human_labels") and not isinstance(shown["human_labels"], str):
        shown["human_labels"] = f"{len(shown['human_labels'])} labelled texts"
    if shown.get("base_url"):
        shown["base_url"] = re.sub(r"(?<=://)[^/@]*@", "", shown["base_url"])
    return json.loads(json.dumps(shown, default=str))


def generator_licence(model_id: str) -> str | None:
    """The Hub licence of a generator hf_llmgen knows, by its model id; None for any other."""
    return next((licence for part, licence in GENERATOR_LICENCES.items() if part in model_id.lower()), None)


def run_record(task: TaskSpec, settings: GenerationSettings, task_argument: str, model_id: str) -> dict[str, Any]:
    """What a card needs to describe a generation later, kept in generation_summary.json under `run`."""
    return {"task": task.to_dict(), "task_argument": task_argument, "model": model_id,
            "settings": _shown(options(settings)), "changed_options": _shown(changed_options(settings))}


def _read_json(folder: str, name: str) -> dict[str, Any] | None:
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _attribute_rows(task: TaskSpec) -> list[dict[str, str]]:
    """Each attribute and its values, per label where they differ by label."""
    rows = []
    for attribute in task.attributes:
        if attribute.per_class:
            values = "; ".join(f"{name}: {', '.join(task.attribute_values(attribute, name)[0])}"
                               for name in task.label_names)
        else:
            values = ", ".join(attribute.values)
        rows.append({"name": attribute.name, "choices": values})
    return rows


def _label_rows(counts: dict[str, int], task: TaskSpec | None, summary: dict | None) -> list[dict[str, Any]]:
    """Per label: its rows now, what it was prompted as, the generation's label-check pass rate."""
    checks = (summary or {}).get("label_check", {})
    descriptions = {label.name: label.description for label in task.labels} if task else {}
    return [{"name": name, "count": count, "description": descriptions.get(name, ""),
             "pass_rate": checks[name]["pass_rate"] if name in checks else None} for name, count in counts.items()]


def _target_rows(task: TaskSpec | None, train: Any) -> list[dict[str, Any]]:
    """Per target of a `targeted` run: its label, what it was mistaken for, the hypothesis, who wrote it, its rows."""
    if not task or not task.targets or "hypothesis" not in train.column_names:
        return []
    rows = Counter(zip(train["target_label"], train["hypothesis"]))
    return [{"label": t.label, "mistaken_for": t.mistaken_for, "hypothesis": t.hypothesis, "source": t.source,
             "rows": rows[t.label, t.hypothesis]} for t in task.targets]


def _quality_rows(quality: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """The measured figures a reader compares datasets by: every number at the top level of measure's result."""
    if not quality:
        return []
    return [(name, value) for name, value in quality.items() if isinstance(value, (int, float))]


def folder_card(folder: str) -> DatasetCard:
    """The card of an output folder, from its files alone."""
    summary = _read_json(folder, GENERATION_SUMMARY)
    run = (summary or {}).get("run")
    task = parse_task(run["task"]) if run else None
    train, removed = saved_split(folder, "train"), saved_split(folder, "removed")
    counts = rows_per_label(train)
    name = task.name if task else os.path.basename(os.path.normpath(folder))
    card_data = DatasetCardData(
        task_categories=["text-classification"], language=["en"], size_categories=[_size_category(len(train))],
        tags=["synthetic", "hf_llmgen", name], pretty_name=f"hf_llmgen {name}",
    )
    earlier = os.path.join(folder, "README.md")
    if os.path.exists(earlier):
        kept = DatasetCard.load(earlier).data
        for key in KEPT_METADATA:
            if kept.get(key):
                card_data[key] = kept.get(key)
    settings = run["settings"] if run else {}
    template = resources.files("hf_llmgen.model_cards").joinpath("dataset_card.md")
    return DatasetCard.from_template(
        card_data,
        template_str=template.read_text("utf-8"),
        pretty_name=f"hf_llmgen {name}",
        rows=len(train),
        removed_rows=len(removed) if removed is not None else 0,
        run=run,
        licence=generator_licence(run["model"]) if run else None,
        task_description=task.description if task else "",
        label_rows=_label_rows(counts, task, summary),
        attributes=_attribute_rows(task) if task and uses_attributes(settings["prompt"], task) else [],
        targets=_target_rows(task, train),
        targeted=_read_json(folder, TARGETED_REPORT),
        settings=sorted(settings.items()),
        summary=summary,
        relabel=_read_json(folder, RELABEL_SUMMARY),
        filtered=_read_json(folder, FILTER_SUMMARY),
        quality=_quality_rows(_read_json(folder, MEASURE_FILE)),
        figure=FIGURE_FILE if os.path.exists(os.path.join(folder, FIGURE_FILE)) else None,
        reproduce=_reproduce_call(run) if run else None,
    )


def _reproduce_call(run: dict[str, Any]) -> str:
    """The `load_dataset` call that generates the same rows again."""
    return (f'datasets.load_dataset("hf_llmgen", task={run["task_argument"]!r}, split="train", '
            f'**{run["changed_options"]!r})')


def write_card(folder: str) -> None:
    """Write the folder's card, README.md, from what the folder holds now."""
    card = folder_card(folder)
    card.save(os.path.join(folder, "README.md"))
