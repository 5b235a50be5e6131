"""TaskSpec: what to generate (labels, text type, domain, seed examples), loaded from YAML or a dict."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Mapping

import yaml

_TASK_FIELDS = {"name", "description", "text_type", "domain", "labels", "examples"}
_LABEL_FIELDS = {"name", "description"}
_EXAMPLE_FIELDS = {"text", "label"}


class TaskSpecError(ValueError):
    """A task spec is malformed; the message names the field and the fix."""


@dataclass(frozen=True)
class Label:
    name: str
    description: str


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class TaskSpec:
    """A text-classification task: the labels to generate for and how to describe the texts."""

    name: str
    text_type: str
    labels: tuple[Label, ...]
    description: str = ""
    domain: str = ""
    examples: tuple[Example, ...] = ()

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain YAML/JSON data; `parse_task(spec.to_dict())` gives the spec back."""
        data = asdict(self)
        data["labels"] = list(data["labels"])
        data["examples"] = list(data["examples"])
        return data


def preset_names() -> list[str]:
    """Names of the task presets shipped in `builders/`."""
    folder = resources.files("hf_llmgen.builders")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_task(task: str | Mapping[str, Any] | TaskSpec) -> TaskSpec:
    """Load a task from a preset name, a YAML path, a dict or a TaskSpec, and validate it."""
    if isinstance(task, TaskSpec):
        return task
    if isinstance(task, Mapping):
        return parse_task(task)
    if not isinstance(task, str) or not task:
        raise TaskSpecError(f"task: expected a preset name, a YAML path or a dict, got {task!r}.")
    if os.path.exists(task):
        with open(task, encoding="utf-8") as f:
            return parse_task(_read_yaml(f.read(), task), default_name=_stem(task))
    if task in preset_names():
        text = resources.files("hf_llmgen.builders").joinpath(f"{task}.yaml").read_text("utf-8")
        return parse_task(_read_yaml(text, task), default_name=task)
    raise TaskSpecError(
        f"task: {task!r} is neither a file nor a preset. Give a YAML path, a dict, or one of: "
        + ", ".join(preset_names())
    )


def parse_task(data: Mapping[str, Any], default_name: str = "custom") -> TaskSpec:
    """Validate a task mapping and build the TaskSpec."""
    data = _fields(data, _TASK_FIELDS, "task")
    text_type = _required_str(data, "text_type", "task", "must be a non-empty string such as 'movie review'")
    labels = _parse_labels(data.get("labels"))
    names = {label.name for label in labels}
    raw_examples = data.get("examples") or []
    if not isinstance(raw_examples, list):
        raise TaskSpecError("task.examples: give a list of {text, label} mappings.")
    examples = tuple(_parse_example(i, e, names) for i, e in enumerate(raw_examples))
    return TaskSpec(
        name=_optional_str(data, "name") or default_name,
        text_type=text_type,
        labels=labels,
        description=_optional_str(data, "description"),
        domain=_optional_str(data, "domain"),
        examples=examples,
    )


def _parse_labels(raw: Any) -> tuple[Label, ...]:
    if not isinstance(raw, list) or not raw:
        raise TaskSpecError("task.labels: give a list of at least two labels, each with a name and a description.")
    labels = []
    for i, item in enumerate(raw):
        where = f"task.labels[{i}]"
        item = _fields(item, _LABEL_FIELDS, where)
        name = _required_str(item, "name", where, "must be a non-empty string")
        phrase = "must be a non-empty phrase the prompt can use, e.g. 'negative sentiment'"
        labels.append(Label(name, _required_str(item, "description", where, phrase)))
    if len(labels) < 2:
        raise TaskSpecError("task.labels: a classification task needs at least two labels.")
    seen: set[str] = set()
    for label in labels:
        if label.name in seen:
            raise TaskSpecError(f"task.labels: duplicate label name {label.name!r}; label names must be unique.")
        seen.add(label.name)
    return tuple(labels)


def _parse_example(i: int, item: Any, names: set[str]) -> Example:
    where = f"task.examples[{i}]"
    item = _fields(item, _EXAMPLE_FIELDS, where)
    text = _required_str(item, "text", where, "must be a non-empty string")
    label = item.get("label")
    if label not in names:
        raise TaskSpecError(f"{where}.label: {label!r} is not one of the task's labels {sorted(names)}.")
    return Example(text, label)


def _fields(item: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    """`item` as a mapping with only `allowed` keys, or a TaskSpecError saying what is wrong."""
    if not isinstance(item, Mapping):
        raise TaskSpecError(f"{where}: expected a mapping with fields {sorted(allowed)}, got {item!r}.")
    _reject_unknown(item, allowed, where)
    return item


def _required_str(item: Mapping[str, Any], key: str, where: str, fix: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaskSpecError(f"{where}.{key}: {fix}.")
    return value.strip()


def _reject_unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise TaskSpecError(f"{where}: unknown field(s) {unknown}; allowed fields are {sorted(allowed)}.")


def _optional_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key) or ""
    if not isinstance(value, str):
        raise TaskSpecError(f"task.{key}: must be a string, got {type(value).__name__}.")
    return value.strip()


def _read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise TaskSpecError(f"task: {source} is not valid YAML: {err}") from err


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
