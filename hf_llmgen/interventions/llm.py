"""The generator as a judge: it classifies each row zero-shot, its answer constrained to the label set
(label replacement's LLM mode), or says whether a row fits the task at all (an out-of-scope judge)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np

from ..backends import Backend, Request, answers, make_backend
from ..generation.parse import parse_choice
from ..generation.prompts import classify_messages
from ..generation.settings import GenerationSettings
from .relabel import Relabeler
from .scope import split_by_score

def scope_messages(text: str, names: Sequence[str], descriptions: Mapping[str, str]) -> list[dict[str, str]]:
    """Chat messages asking whether `text` fits any of the labels."""
    options = ", ".join(f"{name}" + (f" ({descriptions[name]})" if name in descriptions else "") for name in names)
    return [{"role": "user", "content": (
        f"Labels: {options}.\n\nText: {text}\n\nDoes the text fit one of these labels? Answer yes or no."
    )}]


class LLMJudge:
    """Asks the generator (any backend, loaded on first use) one short greedy question per row.

    backend / model / device: as for generation ('local' is the embedded SmolLM2). descriptions: label ->
    what it means, shown to the model with the label names.
    """

    def __init__(
        self, backend: str = "local", model: str | None = None, device: str | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = GenerationSettings(backend=backend, model=model, device=device)
        self.descriptions = dict(descriptions or {})
        self._backend: Backend | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for datasets' fingerprint and num_proc) without the loaded model."""
        return {**self.__dict__, "_backend": None}

    def classify(self, texts: Sequence[str], names: Sequence[str]) -> list[str]:
        """The model's answer to "which label fits this text best?", per text."""
        return self._ask([classify_messages(t, names, self.descriptions) for t in texts], max_tokens=24)

    def fits(self, texts: Sequence[str], names: Sequence[str]) -> list[str]:
        """The model's answer to "does this text fit one of these labels?" (yes or no), per text."""
        return self._ask([scope_messages(t, names, self.descriptions) for t in texts], max_tokens=4)

    def _ask(self, conversations: Sequence[list[dict[str, str]]], max_tokens: int) -> list[str]:
        if self._backend is None:
            self._backend = make_backend(self.settings)
        return answers(self._backend, [Request(m, max_tokens, temperature=0.0, top_p=1.0, seed=0) for m in conversations])


class LLMRelabeler(Relabeler):
    """Label replacement by the generator: each row takes the label the LLM names for it (score 1).

    Rows whose answer names no label keep their label (score 0). Adds `llm_answer`, the raw answer.
    judge: the model to ask (default: the embedded SmolLM2).
    """

    mode = "llm"

    def __init__(
        self, names: Sequence[str], *, judge: LLMJudge | None = None, text_column: str = "text",
        label_column: str = "label",
    ) -> None:
        super().__init__(names, text_column=text_column, label_column=label_column)
        self.judge = judge or LLMJudge()

    def scores(self, texts: Sequence[str], current: np.ndarray) -> np.ndarray:
        self.answers = self.judge.classify(texts, self.names)
        scores = np.full((len(texts), len(self.names)), -1.0)
        for row, answer in enumerate(self.answers):
            choice = parse_choice(answer, self.names)
            if choice is None:
                scores[row, current[row]] = 0.0
            else:
                scores[row, self.index(choice)] = 1.0
        return scores

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        out = super().__call__(batch)
        out["llm_answer"] = self.answers
        return out


class LLMScopeFilter:
    """A batched `Dataset.filter` function keeping the rows the generator says fit one of the labels;
    `split` also keeps the rest.

    An answer that is neither yes nor no keeps the row (nothing is removed on a guess).
    """

    threshold = 0.5

    def __init__(self, names: Sequence[str], *, judge: LLMJudge | None = None, text_column: str = "text") -> None:
        self.names = list(names)
        self.judge = judge or LLMJudge()
        self.text_column = text_column

    def score(self, batch: dict[str, list]) -> dict[str, list]:
        """A batched map function adding `scope_score`: 0 where the model said no, else 1."""
        answers = self.judge.fits(batch[self.text_column], self.names)
        return {"scope_score": [0.0 if parse_choice(answer, ("yes", "no")) == "no" else 1.0 for answer in answers]}

    def __call__(self, batch: dict[str, list]) -> list[bool]:
        return [score >= self.threshold for score in self.score(batch)["scope_score"]]

    def split(self, dataset: datasets.Dataset, **map_kwargs: Any) -> datasets.DatasetDict:
        """`kept` and `removed` rows, each with its `scope_score`; map_kwargs go to `Dataset.map`."""
        return split_by_score(dataset, self.score, self.threshold, **map_kwargs)
