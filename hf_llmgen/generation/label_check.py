"""The label check: does a candidate text say what its label says?

A checker scores texts against the task's labels and gives each its own label and confidence (a `Verdict`).
`embedding` compares a text with label prototypes (each label's name, description and keywords); `proxy` is
the calibrated proxy of label replacement, fitted on human labels (and re-fitted on the rows that pass); `llm`
reads the generator's log-probabilities of the labels as numbered options. The run's `label_policy` then keeps
(flags), drops or relabels a row whose verdict differs from its label.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..backends.base import Backend, Request, RequestFailure
from ..task import Example, TaskSpec
from .cache import RequestCache, request_key
from .label_sets import members
from .prompts import MAX_CHOICE_LABELS, few_shot_choice_messages

if TYPE_CHECKING:
    from .settings import GenerationSettings

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> their embeddings, e.g. an EmbeddingHandle

LABEL_CHECKS = ("embedding", "proxy", "llm", "none")
LABEL_POLICIES = ("keep", "drop", "relabel")
PROTOTYPE_TEMPERATURE = 0.05  # softmax temperature over cosine similarities to the prototypes


@dataclass(frozen=True)
class Verdict:
    """The checker's label for one text ("" when it abstains), its confidence, and whether it agrees with the
    label the text was asked for (for a label set: names one of its labels; an abstention agrees)."""

    label: str
    score: float
    passed: bool


class LabelChecker(ABC):
    """Scores texts against a task's labels; `name` is the `label_check` option that picks it."""

    name: str

    def __init__(self, task: TaskSpec) -> None:
        self.task = task
        self.names = task.label_names

    @abstractmethod
    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, labels) scores, each row summing to 1, columns in the order of the task's labels; a row of
        zeros is an abstention."""

    def learn(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        """Take rows the run accepted after they passed the check (their label names); a checker that learns
        from the run's own rows overrides this."""

    def check(self, texts: Sequence[str], keys: Sequence[str]) -> list[Verdict]:
        """A verdict per text; `keys` are the labels (or label-set keys) the texts were asked for."""
        if not texts:
            return []
        scores = self.probabilities(texts)
        verdicts = []
        for row, key in zip(scores, keys):
            if not row.any():
                verdicts.append(Verdict("", 0.0, True))
                continue
            best = self.names[int(row.argmax())]
            verdicts.append(Verdict(best, float(row.max()), best in members(self.task, key)))
        return verdicts


def prototype_texts(task: TaskSpec) -> dict[str, list[str]]:
    """What each label's prototype is made of: "name: description" and its keywords.

    Measured as zero-shot classifiers on the real test splits of five tasks, this beat the name alone and
    adding the seed examples (see the README's label-check table).
    """
    texts = {}
    for label in task.labels:
        texts[label.name] = [f"{label.name}: {label.description}"]
        if label.keywords:
            texts[label.name].append(", ".join(label.keywords))
    return texts


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of `scores / temperature`."""
    shifted = (scores - scores.max(axis=1, keepdims=True)) / temperature
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


class EmbeddingChecker(LabelChecker):
    """Cosine similarity of a text's embedding to each label's prototype (the mean of its `prototype_texts`),
    as a softmax; needs no human labels. Embeddings come through the shared embedding cache."""

    name = "embedding"

    def __init__(self, task: TaskSpec, embed: Embed) -> None:
        super().__init__(task)
        self.embed = embed
        parts = prototype_texts(task)
        self.prototypes = _unit(np.stack([_unit(embed(parts[name])).mean(axis=0) for name in self.names]))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(_unit(self.embed(texts)) @ self.prototypes.T, PROTOTYPE_TEMPERATURE)


REFIT_EVERY = 32  # rows accepted between re-fits of the proxy check


class ProxyChecker(LabelChecker):
    """The proxy of label replacement (calibrated linear SVMs on embeddings), fitted on human labels
    (text -> label name), its probabilities the scores; re-fitted each time `REFIT_EVERY` more rows have passed
    the check, on the human labels and those rows (a human label wins where both have a text), so it follows
    the texts the run writes. `embedding_cache_path`: the shared embedding cache's file (default: beside the
    datasets cache)."""

    name = "proxy"

    def __init__(self, task: TaskSpec, human_labels: Mapping[str, str], embedding_cache_path: str | None = None) -> None:
        from ..interventions.relabel import ProxyRelabeler

        super().__init__(task)
        self.human = dict(human_labels)
        self.accepted: dict[str, str] = {}
        self.refits = 0
        self.proxy = ProxyRelabeler(self.names, embedding_cache_path=embedding_cache_path)
        self.proxy.fit(list(self.human), list(self.human.values()))
        self._fitted_on = 0  # accepted rows in the latest fit

    def learn(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.accepted.update((text, label) for text, label in zip(texts, labels) if label in self.names)
        if len(self.accepted) - self._fitted_on >= REFIT_EVERY:
            data = {**self.accepted, **self.human}
            self.proxy.fit(list(data), list(data.values()))
            self._fitted_on = len(self.accepted)
            self.refits += 1

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return self.proxy.probabilities(texts)


CHOICE_TOP_LOGPROBS = 20  # first-token alternatives asked for: the option numbers are nearly always among them


def choice_probabilities(top_logprobs: Sequence[tuple[str, float]], n_options: int) -> np.ndarray:
    """Probabilities of options 1..`n_options` from the first answer token's (token, log-probability) pairs,
    renormalised over the options; zeros (an abstention) when no option number is among them."""
    logp = np.full(n_options, -np.inf)
    for token, value in top_logprobs:
        number = token.strip()
        if number.isdigit() and 1 <= int(number) <= n_options:
            logp[int(number) - 1] = np.logaddexp(logp[int(number) - 1], value)
    if np.isneginf(logp).all():
        return np.zeros(n_options)
    weights = np.exp(logp - logp.max())
    return weights / weights.sum()


class LLMChecker(LabelChecker):
    """The generator, shown the labels as numbered options, scores each from the log-probability of its number
    as the first answer token (one greedy token per text, through the request cache, so a resumed run gets the
    same verdicts). Up to `MAX_CHOICE_LABELS` labels; a text whose answer names no option abstains.
    examples: labelled texts shown first, each asked and answered the same way (few-shot; default none)."""

    name = "llm"

    def __init__(self, task: TaskSpec, backend: Backend, cache: RequestCache, examples: Sequence[Example] = ()) -> None:
        super().__init__(task)
        self.backend = backend
        self.cache = cache
        self.descriptions = {label.name: label.description for label in task.labels}
        self.examples = tuple(examples)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        requests = [Request(few_shot_choice_messages(text, self.names, self.descriptions, self.examples), 1, 0.0, 1.0,
                            0, top_logprobs=CHOICE_TOP_LOGPROBS) for text in texts]
        return np.stack([choice_probabilities(top, len(self.names)) for top in self._top_logprobs(requests)])

    def _top_logprobs(self, requests: list[Request]) -> list[tuple[tuple[str, float], ...]]:
        keys = [request_key(self.backend.name, self.backend.model_id, request) for request in requests]
        done = {i: cached.top_logprobs for i, key in enumerate(keys) if (cached := self.cache.get(key)) is not None}
        missing = [i for i in range(len(requests)) if i not in done]
        for j, completion in self.backend.generate([requests[i] for i in missing]):
            if isinstance(completion, RequestFailure):
                continue  # no answer: the checker abstains on that text
            self.cache.put(keys[missing[j]], completion)
            done[missing[j]] = completion.top_logprobs
        return [done.get(i, ()) for i in range(len(requests))]


def check_llm_label_count(task: TaskSpec) -> None:
    """Raise ValueError for a task with more labels than the `llm` check's numbered choice takes."""
    if len(task.label_names) > MAX_CHOICE_LABELS:
        raise ValueError(f"label_check: 'llm' scores a numbered choice of at most {MAX_CHOICE_LABELS} labels, and "
                         f"this task has {len(task.label_names)}; use 'embedding', or 'proxy' with human labels.")


def make_checker(
    settings: GenerationSettings, task: TaskSpec, backend: Backend, cache: RequestCache,
    embedding_cache_path: str | None = None,
) -> LabelChecker | None:
    """The checker `settings.label_check` names (None for 'none'); `embedding_cache_path` is the shared
    embedding cache's file (default: beside the datasets cache)."""
    if settings.label_check == "none":
        return None
    if settings.label_check == "llm":
        return LLMChecker(task, backend, cache)
    if settings.label_check == "proxy":
        return ProxyChecker(task, settings.human_labels, embedding_cache_path)
    from ..interventions.proxy import EmbeddingHandle

    return EmbeddingChecker(task, EmbeddingHandle(cache_path=embedding_cache_path))
