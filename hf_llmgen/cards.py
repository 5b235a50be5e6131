"""Dataset cards: the README.md written beside a generated dataset, from the `model_cards/` template."""

from __future__ import annotations

from dataclasses import fields
from importlib import resources
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from .generation.prompts import uses_attributes
from .generation.settings import GenerationSettings
from .task import TaskSpec


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
    """The options as the settings table shows them: human labels by their count."""
    if values.get("human_labels"):
        return {**values, "human_labels": f"{len(values['human_labels'])} labelled texts"}
    return values


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


def dataset_card(
    task: TaskSpec,
    settings: GenerationSettings,
    task_argument: Any,
    model_id: str,
    summary: dict[str, Any],
) -> DatasetCard:
    """A card with the task, model, every generation setting and the run's counts (with `rows_per_label`)."""
    counts = summary["rows_per_label"]
    card_data = DatasetCardData(
        task_categories=["text-classification"],
        language=["en"],
        size_categories=[_size_category(sum(counts.values()))],
        tags=["synthetic", "hf_llmgen", task.name],
        pretty_name=f"hf_llmgen {task.name}",
    )
    template = resources.files("hf_llmgen.model_cards").joinpath("dataset_card.md")
    return DatasetCard.from_template(
        card_data,
        template_str=template.read_text("utf-8"),
        pretty_name=f"hf_llmgen {task.name}",
        backend=settings.backend,
        model=model_id,
        task_description=task.description,
        label_rows=[{"name": lb.name, "count": counts[lb.name], "description": lb.description} for lb in task.labels],
        attributes=_attribute_rows(task) if uses_attributes(settings.prompt, task) else [],
        settings=sorted(_shown(options(settings)).items()),
        summary=summary,
        max_cost=settings.max_cost,
        label_check=settings.label_check,
        label_policy=settings.label_policy,
        task_argument=repr(task_argument),
        options=repr(changed_options(settings)),
    )
