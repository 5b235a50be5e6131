"""LLM-assisted attribute discovery (AttrPrompt): the model proposes attribute dimensions and their values,
class-specific subtopics and each label's most similar label; subtopics that fit the similar label are left
out. The result is a task spec for a person to review before generating."""

from __future__ import annotations

import re
from typing import Any

from ..backends import Backend, Request, answers
from ..task import TaskSpec, parse_task
from .parse import parse_choice

SUBTOPIC = "subtopic"
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)]|[a-z][.)])\s*", re.IGNORECASE)
_PREAMBLE = re.compile(r"(here (is|are)|sure|certainly|of course)\b", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_MAX_WORDS = 8


def parse_list(text: str, limit: int) -> list[str]:
    """The items of a list a model wrote (one per line, or comma-separated on one line).

    Numbering, bullets, bold marks, quotes and end punctuation are removed; "Name: explanation" gives
    "Name"; preambles ("Here are ...:"), items with no letters or over 8 words, and repeats (ignoring case)
    are left out.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 1:
        lines = lines[0].split(",")
    items: list[str] = []
    for line in lines:
        item = _BULLET.sub("", line).replace("**", "").strip()
        if item.endswith(":") or _PREAMBLE.match(item):
            continue
        head, colon, _ = item.partition(":")
        item = (head if colon and len(head.split()) <= 4 else item).strip().strip("\"'").rstrip(".;,").strip()
        if _LETTER.search(item) and len(item.split()) <= _MAX_WORDS and item.lower() not in {i.lower() for i in items}:
            items.append(item)
    return items[:limit]


class NothingSuggested(RuntimeError):
    """The model's answers gave not one usable attribute: there is no draft to write."""


def _dimension_name(item: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", item.lower()).strip("_")


class AttributeSuggester:
    """Drafts attributes for a task with any backend (greedy answers, so the same model gives the same draft).

    dimensions: how many shared dimensions to ask for (besides the class-specific subtopic); values: how many
    values to ask for per dimension and per label. `notes` says what was left out and why.
    """

    def __init__(self, backend: Backend, dimensions: int = 3, values: int = 6, max_new_tokens: int = 96) -> None:
        self.backend = backend
        self.dimensions = dimensions
        self.values = values
        self.max_new_tokens = max_new_tokens
        self.notes: list[str] = []

    def suggest(self, task: TaskSpec) -> dict[str, Any]:
        """The task as a dict with `attributes` and each label's `similar` filled in (a valid spec); raises
        NothingSuggested, with the notes, when no attribute is usable."""
        self.notes = []
        attributes = [a for a in self._shared(task) if a]
        similar = self._similar(task)
        subtopics = self._subtopics(task, similar)
        if subtopics:
            attributes.insert(0, {"name": SUBTOPIC, "per_class": subtopics})
        if not attributes:
            raise NothingSuggested(
                f"the model suggested no usable attribute for {task.name!r} ({'; '.join(self.notes)}). Try a "
                "larger model (--backend, --model), other --dimensions or --values, or write the attributes "
                "by hand (README, 'Attributes (AttrPrompt)')."
            )
        data = task.to_dict()
        data["attributes"] = attributes
        for label in data["labels"]:
            if similar.get(label["name"]):
                label["similar"] = [similar[label["name"]]]
        parse_task(data)
        return data

    def _ask(self, prompts: list[str]) -> list[str]:
        requests = [Request([{"role": "user", "content": p}], self.max_new_tokens, 0.0, 1.0, 0) for p in prompts]
        return answers(self.backend, requests)

    def _about(self, task: TaskSpec) -> str:
        return f"a {task.text_type}" + (f" about {task.domain}" if task.domain else "")

    def _shared(self, task: TaskSpec) -> list[dict[str, Any]]:
        (reply,) = self._ask([
            f"What features can one {task.text_type} differ in from another? Examples: length, writing style. "
            f"Give {self.dimensions} more features, one per line."
        ])
        names = [n for n in dict.fromkeys(_dimension_name(item) for item in parse_list(reply, self.dimensions * 2))
                 if n and n != SUBTOPIC][: self.dimensions]
        if not names:
            self.notes.append(f"the model named no attribute dimensions (it answered {reply!r})")
        replies = self._ask([
            f"What kinds of {name.replace('_', ' ')} can {self._about(task)} have? Give {self.values}, one per line."
            for name in names
        ])
        attributes = []
        for name, reply in zip(names, replies):
            values = parse_list(reply, self.values)
            if len(values) < 2:
                self.notes.append(f"left out {name!r}: the model gave fewer than 2 values ({reply!r})")
                continue
            attributes.append({"name": name, "values": values})
        return attributes

    def _similar(self, task: TaskSpec) -> dict[str, str]:
        """Each label's most similar other label, by the model; labels it named none for are left out."""
        names = task.label_names
        replies = self._ask([
            f"Labels: {', '.join(names)}.\nWhich other label is most similar to '{name}' "
            f"({task.label(name).description})? Answer with one label name." for name in names
        ])
        similar = {}
        for name, reply in zip(names, replies):
            choice = parse_choice(reply, [other for other in names if other != name])
            if choice:
                similar[name] = choice
        return similar

    def _subtopics(self, task: TaskSpec, similar: dict[str, str]) -> dict[str, list[str]]:
        """Subtopics per label, without those the model says fit the label's similar label; {} when a label
        is left with none."""
        names = task.label_names
        replies = self._ask([
            f"What subtopics can {self._about(task)} with {task.label(name).description} be about? "
            f"Give {self.values}, one per line." for name in names
        ])
        subtopics = {name: parse_list(reply, self.values) for name, reply in zip(names, replies)}
        checks = [(name, value) for name in names if name in similar for value in subtopics[name]]
        verdicts = self._ask([
            f"Is '{value}' rather about {task.label(similar[name]).description} than about "
            f"{task.label(name).description}? Answer yes or no." for name, value in checks
        ])
        for (name, value), verdict in zip(checks, verdicts):
            if parse_choice(verdict, ("yes", "no")) == "yes":
                subtopics[name].remove(value)
                self.notes.append(f"left out subtopic {value!r} of {name!r}: it fits {similar[name]!r}")
        for name in names:
            others = {v.lower() for v in subtopics.get(similar.get(name, ""), [])}
            subtopics[name] = [v for v in subtopics[name] if v.lower() not in others]
        empty = [name for name in names if not subtopics[name]]
        if empty:
            self.notes.append(f"left out the subtopic attribute: no usable subtopics for {empty}")
            return {}
        return subtopics
