"""TaskSpec: what to generate (labels, text type, domain, seed examples, attributes), loaded from YAML or a
dict."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Mapping, Sequence

import yaml

_TASK_FIELDS = {"name", "description", "text_type", "domain", "labels", "examples", "attributes", "multi_label",
                "targets"}
_MULTI_LABEL_FIELDS = {"max_labels", "shares", "exclusive"}
LABEL_SET_SEPARATOR = " + "  # joins the labels of a set in its key: "anger + fear"
_LABEL_FIELDS = {"name", "description", "similar", "keywords", "share"}
_EXAMPLE_FIELDS = {"text", "label"}
_ATTRIBUTE_FIELDS = {"name", "values", "weights", "per_class"}
_TARGET_FIELDS = {"label", "hypothesis", "mistaken_for", "source", "texts"}
TARGET_SOURCES = ("human", "llm")
TARGET_REVIEW_FIELDS = ("errors", "mean_confidence")  # a hypotheses file's notes for its reviewer, not read back


class TaskSpecError(ValueError):
    """A task spec is malformed; the message names the field and the fix."""


@dataclass(frozen=True)
class Label:
    """A label; `similar` names labels a text of this one must not be mistaken for; `keywords` are words typical
    of its texts (the `direct` prompt asks for them, the label check's prototypes include them); `share` is its
    relative share of the rows (0: every label gets an equal share)."""

    name: str
    description: str
    similar: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    share: float = 0.0


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class Attribute:
    """A dimension texts vary along (length, style, subtopic, ...): `values` shared by every label (optionally
    weighted), or `per_class` values for each label."""

    name: str
    values: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()
    per_class: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A blind spot to write texts for (`prompt="targeted"`): texts of `label` that fit `hypothesis`, which a
    classifier took for `mistaken_for`; `source` says who wrote the hypothesis ('human' or 'llm'); `texts` are
    texts of the blind spot the prompt shows as examples (e.g. the classifier's errors, all of `label`)."""

    label: str
    hypothesis: str
    mistaken_for: str = ""
    source: str = "human"
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class MultiLabel:
    """A multi-label task: a text has 1 to `max_labels` labels; `shares` are the shares of texts with 1, 2, ...
    labels; `exclusive` labels (e.g. neutral) are only ever a text's one label."""

    max_labels: int = 2
    shares: tuple[float, ...] = (0.7, 0.3)
    exclusive: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    """A text-classification task: the labels to generate for and how to describe the texts."""

    name: str
    text_type: str
    labels: tuple[Label, ...]
    description: str = ""
    domain: str = ""
    examples: tuple[Example, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    multi_label: MultiLabel | None = None
    targets: tuple[Target, ...] = ()

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]

    @property
    def label_shares(self) -> tuple[float, ...]:
        """Each label's relative share of the rows, in label order; empty when the labels share equally."""
        return tuple(label.share for label in self.labels) if any(label.share for label in self.labels) else ()

    def label(self, name: str) -> Label:
        return next(label for label in self.labels if label.name == name)

    def attribute_values(self, attribute: Attribute, label: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """The values `attribute` takes for texts of `label`, and their weights (empty: equal).

        A per-class value also listed for one of the label's similar labels is left out: it would blur them.
        """
        if not attribute.per_class:
            return attribute.values, attribute.weights
        taken = {v.lower() for other in self.label(label).similar for v in attribute.per_class.get(other, ())}
        return tuple(v for v in attribute.per_class[label] if v.lower() not in taken), ()

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain YAML/JSON data (empty optional fields left out); `parse_task(spec.to_dict())`
        gives the spec back."""
        return _plain(asdict(self))


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
    raw_attributes = data.get("attributes") or []
    if not isinstance(raw_attributes, list):
        raise TaskSpecError("task.attributes: give a list of {name, values | per_class} mappings.")
    spec = TaskSpec(
        name=_optional_str(data, "name") or default_name,
        text_type=text_type,
        labels=labels,
        description=_optional_str(data, "description"),
        domain=_optional_str(data, "domain"),
        examples=examples,
        attributes=tuple(_parse_attribute(i, a, labels) for i, a in enumerate(raw_attributes)),
        multi_label=_parse_multi_label(data.get("multi_label"), labels),
        targets=parse_targets(data.get("targets") or [], [label.name for label in labels]),
    )
    _check_attributes(spec)
    return spec


def _parse_labels(raw: Any) -> tuple[Label, ...]:
    if not isinstance(raw, list) or not raw:
        raise TaskSpecError("task.labels: give a list of at least two labels, each with a name and a description.")
    labels = []
    for i, item in enumerate(raw):
        where = f"task.labels[{i}]"
        item = _fields(item, _LABEL_FIELDS, where)
        name = _required_str(item, "name", where, "must be a non-empty string")
        phrase = "must be a non-empty phrase the prompt can use, e.g. 'negative sentiment'"
        similar = _str_list(item.get("similar") or [], f"{where}.similar", "label names")
        keywords = _str_list(item.get("keywords") or [], f"{where}.keywords", "words typical of the label")
        share = item.get("share", 0.0)
        if "share" in item and not _positive(share):
            raise TaskSpecError(f"{where}.share: give a number > 0 (the label's relative share of the rows), "
                                f"got {share!r}.")
        labels.append(Label(name, _required_str(item, "description", where, phrase), similar, keywords,
                            float(share)))
    if len(labels) < 2:
        raise TaskSpecError("task.labels: a classification task needs at least two labels.")
    unshared = [label.name for label in labels if not label.share]
    if 0 < len(unshared) < len(labels):
        raise TaskSpecError(f"task.labels: {unshared} have no share; give every label a share, or none for equal "
                            "shares.")
    seen: set[str] = set()
    for label in labels:
        if label.name.lower() in {name.lower() for name in seen}:
            raise TaskSpecError(f"task.labels: duplicate label name {label.name!r} (names are compared ignoring "
                                "case); label names must be unique.")
        seen.add(label.name)
    for i, label in enumerate(labels):
        wrong = [name for name in label.similar if name not in seen or name == label.name]
        if wrong:
            raise TaskSpecError(
                f"task.labels[{i}].similar: {wrong} are not other labels of the task; use names from {sorted(seen)}."
            )
    return tuple(labels)


def _parse_attribute(i: int, item: Any, labels: tuple[Label, ...]) -> Attribute:
    where = f"task.attributes[{i}]"
    item = _fields(item, _ATTRIBUTE_FIELDS, where)
    name = _required_str(item, "name", where, "must be a non-empty name such as 'length' or 'subtopic'")
    if bool(item.get("values")) == bool(item.get("per_class")):
        raise TaskSpecError(f"{where}: give either values (shared by every label) or per_class (values per label).")
    if item.get("per_class"):
        return Attribute(name, per_class=_parse_per_class(item["per_class"], labels, f"{where}.per_class"))
    values = _str_list(item["values"], f"{where}.values", "values")
    weights = tuple(item.get("weights") or ())
    if weights and (len(weights) != len(values) or not all(_positive(w) for w in weights)):
        raise TaskSpecError(f"{where}.weights: give one number > 0 per value ({len(values)}), or leave it out.")
    return Attribute(name, values, tuple(float(w) for w in weights))


def _parse_per_class(raw: Any, labels: tuple[Label, ...], where: str) -> dict[str, tuple[str, ...]]:
    names = [label.name for label in labels]
    if not isinstance(raw, Mapping):
        raise TaskSpecError(f"{where}: give a mapping from each label name to its list of values.")
    unknown = sorted(set(raw) - set(names))
    missing = [name for name in names if not raw.get(name)]
    if unknown or missing:
        raise TaskSpecError(
            f"{where}: every label needs its values, and only labels may have them; "
            f"missing {missing}, unknown {unknown}."
        )
    return {name: _str_list(raw[name], f"{where}.{name}", "values") for name in names}


def parse_targets(raw: Any, names: list[str], where: str = "task.targets") -> tuple[Target, ...]:
    """Validate a list of {label, hypothesis, mistaken_for?, source?, texts?} mappings."""
    if not isinstance(raw, list):
        raise TaskSpecError(f"{where}: give a list of {{label, hypothesis}} mappings.")
    targets = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        item = _fields(item, _TARGET_FIELDS, here)
        hypothesis = _required_str(item, "hypothesis", here, "must say in words what the texts have in common")
        for key in ("label", "mistaken_for"):
            value = item.get(key, "" if key == "mistaken_for" else None)
            if not (key == "mistaken_for" and value == "") and value not in names:
                raise TaskSpecError(f"{here}.{key}: {value!r} is not one of the task's labels {names}.")
        source = item.get("source", "human")
        if source not in TARGET_SOURCES:
            raise TaskSpecError(f"{here}.source: {source!r}; use one of {TARGET_SOURCES} (who wrote the hypothesis).")
        texts = _str_list(item.get("texts") or [], f"{here}.texts", "texts of the blind spot")
        targets.append(Target(item["label"], hypothesis, item.get("mistaken_for", ""), source, texts))
    return tuple(targets)


def read_targets(source: str | Sequence[Mapping[str, Any]], names: Sequence[str]) -> tuple[Target, ...]:
    """The targets of a hypotheses file (as `hf-llmgen target` writes it: a mapping with a `hypotheses` list), or of
    a list of target mappings, checked against the label `names`."""
    where = "targets"
    entries: Any = source
    if isinstance(source, str):
        where = f"targets ({source})"
        try:
            with open(source, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as err:
            raise TaskSpecError(f"targets: cannot read the hypotheses file {source!r}: {err}") from err
        if not isinstance(data, Mapping) or "hypotheses" not in data:
            raise TaskSpecError(f"{where}: expected a mapping with a `hypotheses` list, as `hf-llmgen target` writes.")
        entries = data["hypotheses"]
    if isinstance(entries, list):
        entries = [{k: v for k, v in e.items() if k not in TARGET_REVIEW_FIELDS} if isinstance(e, Mapping) else e
                   for e in entries]
    targets = parse_targets(entries, list(names), where)
    if not targets:
        raise TaskSpecError(f"{where}: there are no hypotheses; add at least one {{label, hypothesis}} entry.")
    return targets


def _parse_multi_label(raw: Any, labels: tuple[Label, ...]) -> MultiLabel | None:
    """None for a single-label task (no or false `multi_label`); `true` takes the defaults."""
    if raw is None or raw is False:
        return None
    where = "task.multi_label"
    names = {label.name for label in labels}
    if any(label.share for label in labels):
        raise TaskSpecError("task.labels: label shares are for single-label tasks; a multi-label task plans its "
                            "label sets from multi_label.shares. Leave the labels' share out.")
    joined = sorted(name for name in names if LABEL_SET_SEPARATOR in name)
    if joined:
        raise TaskSpecError(f"task.labels: {joined} contain {LABEL_SET_SEPARATOR!r}, which a multi-label task uses "
                            "to join labels; rename them.")
    raw = _fields({} if raw is True else raw, _MULTI_LABEL_FIELDS, where)
    most = raw.get("max_labels", 2)
    if not isinstance(most, int) or isinstance(most, bool) or not 2 <= most <= len(names):
        raise TaskSpecError(f"{where}.max_labels: must be an integer from 2 to the {len(names)} labels, got {most!r}.")
    shares = raw.get("shares") or [0.7] + [0.3 / (most - 1)] * (most - 1)
    if len(shares) != most or not all(_positive(s) for s in shares):
        raise TaskSpecError(f"{where}.shares: give {most} numbers > 0, the shares of texts with 1 to {most} labels.")
    exclusive = _str_list(raw.get("exclusive") or [], f"{where}.exclusive", "label names")
    unknown = sorted(set(exclusive) - names)
    if unknown:
        raise TaskSpecError(f"{where}.exclusive: {unknown} are not labels of the task.")
    if len(names) - len(exclusive) < most:
        raise TaskSpecError(f"{where}.exclusive: too few other labels left to combine {most} of them.")
    return MultiLabel(most, tuple(float(s) for s in shares), exclusive)


def _check_attributes(spec: TaskSpec) -> None:
    """Attribute names are unique, and a label keeps some values of each attribute after its similar
    labels' values are left out."""
    seen: set[str] = set()
    for i, attribute in enumerate(spec.attributes):
        if attribute.name in seen:
            raise TaskSpecError(f"task.attributes[{i}].name: duplicate attribute {attribute.name!r}.")
        seen.add(attribute.name)
        for label in spec.labels:
            if not spec.attribute_values(attribute, label.name)[0]:
                raise TaskSpecError(
                    f"task.attributes[{i}].per_class.{label.name}: every value is also a value of a similar label "
                    f"{list(label.similar)}; give it values of its own."
                )


def _str_list(raw: Any, where: str, what: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise TaskSpecError(f"{where}: give a list of non-empty strings ({what}), got {raw!r}.")
    return tuple(v.strip() for v in raw)


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


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


def _plain(data: Any) -> Any:
    """Tuples as lists and empty optional fields left out, so the data dumps as YAML and hashes as before."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items() if not (k in _OPTIONAL and not v)}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data


_OPTIONAL = {"similar", "keywords", "share", "attributes", "values", "weights", "per_class", "multi_label", "exclusive",
             "targets", "mistaken_for", "texts"}


def _read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise TaskSpecError(f"task: {source} is not valid YAML: {err}") from err


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
