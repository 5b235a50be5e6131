"""Prompt styles: `direct` (a short instruction stating the label's meaning and its typical words, written for
small models), `simple` (class-conditional, SimPrompt), `elements` (the diversity paper's format),
`attributes` (AttrPrompt: the label plus a configuration of attribute values) and `targeted` (a text of a
classifier's blind spot: the label plus a hypothesis about what the classifier gets wrong); and the questions
the LLM judges ask: the `llm` label check's numbered choice, label replacement's named answer."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..task import Example, Target, TaskSpec
from .label_sets import members

PROMPT_STYLES = ("direct", "simple", "elements", "attributes", "targeted")
ATTRIBUTED_STYLES = ("direct", "attributes")  # styles that ask for a configuration of the task's attributes


def uses_attributes(style: str, task: TaskSpec) -> bool:
    """Whether requests in `style` for `task` each carry a configuration of its attributes."""
    return style in ATTRIBUTED_STYLES and bool(task.attributes)

Messages = list[dict[str, str]]


def build_messages(
    task: TaskSpec, style: str, label: str, examples: Sequence[Example], n_texts: int,
    attributes: Mapping[str, str] | None = None, target: Target | None = None,
) -> Messages:
    """Chat messages asking for `n_texts` texts of class `label`, showing `examples` in context; `attributes`
    ({attribute: value}) are the configuration the `direct` and `attributes` styles ask for, `target` the blind
    spot the `targeted` style asks for."""
    if style == "direct":
        return [{"role": "user", "content": _direct(task, label, examples, n_texts, _configuration(attributes or {}))}]
    if style == "simple":
        return [{"role": "user", "content": _simple(task, label, examples, n_texts)}]
    if style == "elements":
        return [{"role": "user", "content": _elements(task, label, examples, n_texts)}]
    if style == "attributes":
        return [{"role": "user", "content": _attributed(task, label, examples, n_texts, attributes or {})}]
    if style == "targeted" and target is not None:
        lines = _target_lines(task, label, target)
        return [{"role": "user", "content": _direct(task, label, examples, n_texts, lines)}]
    if style == "targeted":
        raise ValueError("prompt: 'targeted' asks for a text of a blind spot; give the request its target.")
    raise ValueError(f"prompt: unknown prompt style {style!r}; use one of {PROMPT_STYLES}.")


def _label_phrase(task: TaskSpec, key: str) -> str:
    """What a label, or a multi-label task's label set (by key), means: descriptions joined by '; '."""
    return "; ".join(task.label(name).description for name in members(task, key))


def _labelled(task: TaskSpec, key: str) -> str:
    """"whose label is 'x' (meaning)", or for a label set "whose labels are 'a' (meaning) and 'b' (meaning)"."""
    names = members(task, key)
    if len(names) == 1:
        return f"whose label is '{key}' ({_label_phrase(task, key)})"
    return "whose labels are " + " and ".join(f"'{name}' ({task.label(name).description})" for name in names)


def _context(task: TaskSpec) -> str:
    return f" about {task.domain}" if task.domain else ""


def _ask_count(task: TaskSpec, n_texts: int) -> str:
    if n_texts == 1:
        return f"Reply with the {task.text_type} only."
    return f"Write {n_texts} different ones, numbered 1 to {n_texts}, one per line. Reply with the list only."


def _direct(task: TaskSpec, label: str, examples: Sequence[Example], n_texts: int, details: Sequence[str]) -> str:
    """The short instruction, then `details` (an attribute configuration, a target), keywords and examples."""
    names = members(task, label)
    count = "one short" if n_texts == 1 else f"{n_texts} short"
    lines = [f"Write {count} {task.text_type}{_context(task)}: {_label_phrase(task, label)}.", *details]
    keywords = [word for name in names for word in task.label(name).keywords]
    if keywords:
        lines.append(f"Use words like {', '.join(keywords)}.")
    if examples:
        lines.append("Examples:")
        lines += [f"- {ex.text}" for ex in examples]
    lines.append(_ask_count(task, n_texts))
    return "\n".join(lines)


def _configuration(attributes: Mapping[str, str]) -> list[str]:
    """The `direct` prompt's line of attribute values, if any."""
    if not attributes:
        return []
    return [" ".join(f"{name.replace('_', ' ').capitalize()}: {value}." for name, value in attributes.items())]


def _target_lines(task: TaskSpec, label: str, target: Target) -> list[str]:
    """The `targeted` prompt's lines: the hypothesis, and the label the texts must not be taken for."""
    lines = ["It must fit this description:", target.hypothesis]  # its own line: a text that copies it is cut
    if target.mistaken_for:
        lines.append(f"It must still clearly be {_label_phrase(task, label)}, not "
                     f"{_label_phrase(task, target.mistaken_for)}.")
    return lines


def _simple(task: TaskSpec, label: str, examples: Sequence[Example], n_texts: int) -> str:
    lines = [f"Write a {task.text_type}{_context(task)} {_labelled(task, label)}."]
    if examples:
        lines.append(f"Examples of a {task.text_type} with this label:")
        lines += [f"- {ex.text}" for ex in examples]
    lines.append(_ask_count(task, n_texts))
    return "\n".join(lines)


def _elements(task: TaskSpec, label: str, examples: Sequence[Example], n_texts: int) -> str:
    kind = task.text_type[0].upper() + task.text_type[1:]
    blocks = [
        f"Write a {task.text_type}{_context(task)} to cover all following elements\n"
        f"Elements: {_label_phrase(task, ex.label)}\n{kind}: {ex.text}"
        for ex in examples
    ]
    blocks.append(
        f"Write a {task.text_type}{_context(task)} to cover all following elements\n"
        f"Elements: {_label_phrase(task, label)}\n{_ask_count(task, n_texts)}\n{kind}:"
    )
    return "\n\n".join(blocks)


def _attributed(
    task: TaskSpec, label: str, examples: Sequence[Example], n_texts: int, attributes: Mapping[str, str]
) -> str:
    lines = [f"Write a {task.text_type}{_context(task)} {_labelled(task, label)}."]
    if attributes:
        lines.append("It must have these attributes:")
        lines += [f"- {name.replace('_', ' ')}: {value}" for name, value in attributes.items()]
    names = members(task, label)
    similar = [other for name in names for other in task.label(name).similar if other not in names]
    if similar:
        lines.append("It must not be about " + "; ".join(_label_phrase(task, name) for name in similar) + ".")
    if examples:
        lines.append(f"Examples of a {task.text_type} with this label:")
        lines += [f"- {ex.text}" for ex in examples]
    lines.append(_ask_count(task, n_texts))
    return "\n".join(lines)


MAX_CHOICE_LABELS = 9  # numbered options 1-9: each answer is one token, so one token's log-probabilities score all


def choice_messages(text: str, names: Sequence[str], descriptions: Mapping[str, str]) -> Messages:
    """Chat messages asking which numbered label fits `text`, answered with the number alone."""
    if len(names) > MAX_CHOICE_LABELS:
        raise ValueError(f"a numbered choice takes at most {MAX_CHOICE_LABELS} labels, got {len(names)}.")
    options = "\n".join(
        f"{i}. {name}" + (f": {descriptions[name]}" if name in descriptions else "") for i, name in enumerate(names, 1)
    )
    return [{"role": "user", "content": (
        f"Which label fits this text best?\n{options}\n\nText: {text}\n\nAnswer with the number only."
    )}]


def few_shot_choice_messages(
    text: str, names: Sequence[str], descriptions: Mapping[str, str], examples: Sequence[Example]
) -> Messages:
    """`choice_messages` for `text`, after each example asked the same way and answered with its label's number."""
    turns: Messages = []
    for example in examples:
        turns += choice_messages(example.text, names, descriptions)
        turns.append({"role": "assistant", "content": str(list(names).index(example.label) + 1)})
    return turns + choice_messages(text, names, descriptions)


def classify_messages(text: str, names: Sequence[str], descriptions: Mapping[str, str]) -> list[dict[str, str]]:
    """Chat messages asking for the one label of `text`."""
    options = "\n".join(f"- {name}" + (f": {descriptions[name]}" if name in descriptions else "") for name in names)
    return [{"role": "user", "content": (
        f"Which label fits this text best?\nLabels:\n{options}\n\nText: {text}\n\n"
        "Answer with the label name only."
    )}]
