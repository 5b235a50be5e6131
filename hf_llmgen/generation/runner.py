"""A generation run: rounds of requests -> backend (or request cache) -> parsed rows, with their provenance."""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..backends.base import Backend, BackendUnavailable, Completion, Request, RequestFailure
from ..task import Example, Target, TaskSpec
from .attributes import AttributeSampler, attribute_column
from .cache import RequestCache, request_key
from .cost import Spending, run_price
from .label_check import LabelChecker, Verdict
from .label_sets import members, set_quotas
from .parse import CandidateFilter, sentence_keys, split_candidates
from .plan import add_to_pool, derive_seed, label_quotas, pick_examples, round_labels
from .prompts import build_messages, uses_attributes
from .settings import GenerationSettings
from .suppression import TokenFrequency, spellings

logger = logging.getLogger(__name__)

_TOTALS = ("requests", "cached_requests", "candidates", "rows", "prompt_tokens", "completion_tokens",
           "spent_prompt_tokens", "spent_completion_tokens", "seconds")
POOL_LIMIT = 1000  # examples kept per label for in-context sampling (a uniform sample of all accepted)
UNWRITABLE_AFTER = 16  # checked candidates of a label, none passing, after which the run stops


class LabelNotWritable(RuntimeError):
    """The model writes no text the label check accepts for a label; the message says what to try."""


@dataclass
class GenerationStats:
    """What happened in a run: requests, cache hits, candidate texts, rows kept and dropped by reason, tokens, time.

    Every candidate parsed from a completion is either a row or a drop: candidates == rows + sum(dropped).
    `checked` and `passed` count, per prompted label (or label set), the candidates the label check saw and
    those it agreed with; `relabelled` the rows that took the checker's label.
    `failed` counts requests that failed for good, by reason (remote backends); they are not cached, so a
    rerun makes them again. `prompt_tokens`/`completion_tokens` cover every completion used, `spent_*` only
    those requested in this run; `cost_usd` is what they cost (None without a price), `max_cost_reached` says
    the run stopped at its `max_cost`. `example_prompt` is one prompt of the run: its last round's first.
    """

    requests: int = 0
    cached_requests: int = 0
    candidates: int = 0
    rows: int = 0
    dropped: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    spent_prompt_tokens: int = 0
    spent_completion_tokens: int = 0
    cost_usd: float | None = None
    max_cost_reached: bool = False
    seconds: float = 0.0
    shortfall: dict[str, int] = field(default_factory=dict)
    checked: Counter = field(default_factory=Counter)
    passed: Counter = field(default_factory=Counter)
    relabelled: int = 0
    example_prompt: str = ""

    def add(self, other: "GenerationStats") -> None:
        """Fold another shard's stats into this one."""
        for name in _TOTALS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.dropped.update(other.dropped)
        self.failed.update(other.failed)
        self.checked.update(other.checked)
        self.passed.update(other.passed)
        self.relabelled += other.relabelled
        self.example_prompt = self.example_prompt or other.example_prompt
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd
        self.max_cost_reached = self.max_cost_reached or other.max_cost_reached
        for label, missing in other.shortfall.items():
            self.shortfall[label] = self.shortfall.get(label, 0) + missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "cached_requests": self.cached_requests,
            "candidates": self.candidates,
            "rows": self.rows,
            "dropped": dict(sorted(self.dropped.items())),
            "failed": dict(sorted(self.failed.items())),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "spent_prompt_tokens": self.spent_prompt_tokens,
            "spent_completion_tokens": self.spent_completion_tokens,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "max_cost_reached": self.max_cost_reached,
            "seconds": round(self.seconds, 3),
            "shortfall": self.shortfall,
            "label_check": {label: {"checked": n, "passed": self.passed[label], "pass_rate": round(self.passed[label] / n, 4)}
                            for label, n in sorted(self.checked.items())},
            "relabelled": self.relabelled,
            "example_prompt": self.example_prompt,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GenerationStats":
        check = data.get("label_check", {})
        counts = {key: value for key, value in data.items() if key != "label_check"}
        return cls(**{**counts, "dropped": Counter(data["dropped"]), "failed": Counter(data.get("failed", {})),
                      "checked": Counter({label: c["checked"] for label, c in check.items()}),
                      "passed": Counter({label: c["passed"] for label, c in check.items()})})


LOW_PASS_RATE = 0.5  # below this share of a label's candidates passing the check, the summary warns


def pass_rate_warnings(label_check: dict[str, dict[str, Any]], checker: str) -> list[str]:
    """A line for each label (in a stats dict's `label_check`) whose candidates passed the check less than
    half the time."""
    return [
        f"label {label!r}: only {c['passed']} of {c['checked']} candidates ({c['pass_rate']:.0%}) passed the "
        f"{checker!r} label check; its rows may not say what the label says. Give it seed examples, keywords or "
        "a more concrete description."
        for label, c in label_check.items() if c["pass_rate"] < LOW_PASS_RATE
    ]


def more_rows_advice(max_cost_reached: bool) -> str:
    """What to change when a run stopped before every label had its rows."""
    return "raise max_cost" if max_cost_reached else "raise max_requests or lower min_words"


def shard_quotas(task: TaskSpec, settings: GenerationSettings, shard: int) -> dict[str, int]:
    """Rows each label (or, for a multi-label task, each label set) needs in this shard."""
    if task.multi_label:
        return set_quotas(task, settings.num_examples, settings.seed, shard, settings.num_shards)
    shares = task.label_shares
    if settings.prompt == "targeted":  # rows only for labels with blind spots, in proportion to their number
        shares = tuple(float(sum(t.label == name for t in task.targets)) for name in task.label_names)
    return label_quotas(task.label_names, settings.num_examples, shard, settings.num_shards, shares)


def request_budget(settings: GenerationSettings, need: dict[str, int]) -> int:
    """Requests a shard may make: `max_requests`, or 4x what a perfect yield needs plus one round."""
    return settings.max_requests or (4 * math.ceil(sum(need.values()) / settings.texts_per_request)
                                     + settings.batch_size)


class GenerationRun:
    """Runs one shard of a generation: yields rows round by round, and keeps `stats`.

    checker: the label check (None: no check). removed: called with each row the `drop` policy takes out.
    """

    def __init__(
        self,
        settings: GenerationSettings,
        task: TaskSpec,
        backend: Backend,
        cache: RequestCache,
        shard: int = 0,
        checker: LabelChecker | None = None,
        removed: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.task = task
        self.backend = backend
        self.cache = cache
        self.shard = shard
        self.checker = checker
        self.removed = removed or (lambda row: None)
        self.stats = GenerationStats()
        max_cost = settings.max_cost / settings.num_shards if settings.max_cost else None
        self.spending = Spending(run_price(settings), max_cost)
        self.frequency = TokenFrequency()
        self.protected: dict[str, set[int]] = {}  # label (or label set) -> its words' token ids, never suppressed
        self.filter = CandidateFilter(min_words=settings.min_words, dropped=self.stats.dropped)
        self.pool: dict[str, list[Example]] = {name: [] for name in task.label_names}  # by label or label set
        self.pool_added = Counter()
        self.attributes = AttributeSampler(task, derive_seed(settings.seed, shard, "attributes"))
        self.attributed = uses_attributes(settings.prompt, task)
        self.target_rows: Counter = Counter()  # rows and requests per target, so each label's targets share them
        self.target_uses: Counter = Counter()
        for example in task.examples:
            self._add_to_pool(example, random.Random(0))
            self.filter.remember(example.text)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Yield accepted rows until every label has its quota, the request budget is spent or `max_cost` is
        reached."""
        s = self.settings
        need = shard_quotas(self.task, s, self.shard)
        budget = request_budget(s, need)
        started = time.perf_counter()
        round_index = 0
        while any(need.values()) and self.stats.requests < budget and not self.stats.max_cost_reached:
            labels = round_labels(need, s.texts_per_request, min(s.batch_size, budget - self.stats.requests),
                                  self._pass_rates())
            new_rows = list(self._run_round(round_index, labels, need))
            rng = random.Random(derive_seed(s.seed, self.shard, round_index, "pool"))
            passed_rows = [(key, row["text"]) for key, row, passed in new_rows if passed]
            for key, text in passed_rows:  # only rows the check agrees with show the model what a label looks like
                self._add_to_pool(Example(text, key), rng)
            if self.checker is not None:
                self.checker.learn([text for _, text in passed_rows], [key for key, _ in passed_rows])
            yield from (row for _, row, _ in new_rows)
            self._stop_if_unwritable(need)
            round_index += 1
        self.stats.seconds = time.perf_counter() - started
        self.stats.spent_prompt_tokens = self.spending.prompt_tokens
        self.stats.spent_completion_tokens = self.spending.completion_tokens
        self.stats.cost_usd = self.spending.cost
        self.stats.shortfall = {label: n for label, n in need.items() if n > 0}
        if self.checker is not None:
            for warning in pass_rate_warnings(self.stats.to_dict()["label_check"], self.checker.name):
                logger.warning(warning)
        if self.stats.shortfall:
            logger.warning("Stopped after %d requests with rows still missing %s; %s.",
                           self.stats.requests, self.stats.shortfall, more_rows_advice(self.stats.max_cost_reached))

    def _pass_rates(self) -> dict[str, float]:
        """Each label's share of checked candidates that passed, where failing ones are asked for again."""
        if self.settings.label_policy == "keep":
            return {}
        return {label: self.stats.passed[label] / n for label, n in self.stats.checked.items()}

    def _stop_if_unwritable(self, need: dict[str, int]) -> None:
        """Raise `LabelNotWritable` for a label still needing rows whose first `UNWRITABLE_AFTER` candidates all
        failed the check (unless the policy keeps failing rows)."""
        if self.checker is None or self.settings.label_policy == "keep":
            return
        for label, missing in need.items():
            if missing and self.stats.checked[label] >= UNWRITABLE_AFTER and not self.stats.passed[label]:
                raise LabelNotWritable(
                    f"label {label!r}: none of the {self.stats.checked[label]} texts the model wrote for it passed "
                    f"the {self.checker.name!r} label check, so the run cannot give it rows. Try seed examples of "
                    f"it (task.examples), a more concrete description or keywords for it (task.labels), another "
                    f"prompt style (prompt=...), a larger model (model=...), or label_policy='keep' to keep its "
                    "rows, flagged."
                )

    def _add_to_pool(self, example: Example, rng: random.Random) -> None:
        self.pool_added[example.label] += 1
        pool = self.pool.setdefault(example.label, [])
        add_to_pool(pool, example, self.pool_added[example.label], POOL_LIMIT, rng)

    def _run_round(
        self, round_index: int, labels: list[str], need: dict[str, int]
    ) -> Iterator[tuple[str, dict[str, Any], bool]]:
        """(label or label-set key, row, whether it passed the label check) for every row accepted in this
        round; the check sees the round's candidates in one batch."""
        s = self.settings
        requests, shown, columns = self.requests_for(round_index, labels)
        if requests:
            self.stats.example_prompt = "\n\n".join(message["content"] for message in requests[0].messages)
        completions, keys = self._complete(requests)
        candidates = []  # (request index, candidate index, text)
        for i, completion in enumerate(completions):
            if completion is None:  # failed for good: its label still needs the row, a later round asks again
                continue
            self.frequency.update(completion.token_ids)
            for index, text in enumerate(split_candidates(completion.text, s.texts_per_request,
                                                          self._instructions(requests[i], shown[i]))):
                self.stats.candidates += 1
                if self.filter.accept(text, shown[i], columns[i].get("hypothesis", "")):
                    candidates.append((i, index, text))
        verdicts = self._verdicts([text for _, _, text in candidates], [labels[i] for i, _, _ in candidates])
        for (i, index, text), verdict in zip(candidates, verdicts):
            prompted = labels[i]
            row = self._row(text, prompted, requests[i], keys[i], shown[i], round_index, index, verdict)
            row.update(columns[i])
            label = self._label_for(prompted, verdict, row)
            if label is None:
                continue
            if need[label] == 0:
                self.stats.dropped["over_quota"] += 1
                continue
            need[label] -= 1
            if s.prompt == "targeted":
                self.target_rows[row["target_label"], row["hypothesis"]] += 1
            self.stats.rows += 1
            self.stats.relabelled += label != prompted
            yield label, row, verdict is None or verdict.passed

    @staticmethod
    def _instructions(request: Request, shown: list[str]) -> frozenset[str]:
        """The prompt's own sentences of 3 words or more, not its examples': a text must not repeat them."""
        prompt = sentence_keys("\n".join(message["content"] for message in request.messages), min_words=3)
        return frozenset(prompt.difference(*(sentence_keys(example) for example in shown)))

    def _verdicts(self, texts: list[str], keys: list[str]) -> list[Verdict | None]:
        """The label check's verdict on each text (None without a check), counted per prompted label."""
        if self.checker is None:
            return [None] * len(texts)
        verdicts = self.checker.check(texts, keys)
        for key, verdict in zip(keys, verdicts):
            self.stats.checked[key] += 1
            self.stats.passed[key] += verdict.passed
        return verdicts

    def _label_for(self, prompted: str, verdict: Verdict | None, row: dict[str, Any]) -> str | None:
        """The label (key) a checked row counts for under the policy, or None when `drop` takes it out (it is
        counted and handed to `removed`)."""
        if verdict is None or verdict.passed or self.settings.label_policy == "keep":
            return prompted
        if self.settings.label_policy == "drop":
            self.stats.dropped["off_label"] += 1
            self.removed(row)
            return None
        row["label"] = verdict.label
        return verdict.label

    def requests_for(
        self, round_index: int, labels: list[str]
    ) -> tuple[list[Request], list[list[str]], list[dict[str, str]]]:
        """A request per label, with the in-context texts it shows and the columns its rows get from its prompt
        (attribute values, the target); up to `choices_per_prompt` requests of a label in a row share one prompt."""
        s = self.settings
        rng = random.Random(derive_seed(s.seed, self.shard, round_index, "examples"))
        bias = self.frequency.logit_bias(s.suppression_top_n, s.logit_suppression)
        requests, shown, columns = [], [], []
        prompts: dict[str, tuple[list[Example], dict[str, str], list]] = {}  # label -> its current prompt
        uses = Counter()
        for i, label in enumerate(labels):
            if uses[label] % s.choices_per_prompt == 0:  # a new prompt; else the label's last one again
                target = self._next_target(label) if s.prompt == "targeted" else None
                pool = self.pool  # a target's own texts, where it has them, are its examples
                if target is not None and target.texts:
                    pool = {label: [Example(text, label) for text in target.texts]}
                examples = pick_examples(pool, label, s.prompt, s.examples_per_prompt, rng)
                first_label = members(self.task, label)[0]  # a label set's attribute values: its first label's
                configuration = self.attributes.sample(first_label) if self.attributed else {}
                messages = build_messages(self.task, s.prompt, label, examples, s.texts_per_request, configuration,
                                          target)
                row_columns = {attribute_column(name): value for name, value in configuration.items()}
                if target is not None:
                    row_columns.update(hypothesis=target.hypothesis, target_label=target.label,
                                       mistaken_for=target.mistaken_for)
                prompts[label] = (examples, row_columns, messages)
            uses[label] += 1
            examples, row_columns, messages = prompts[label]
            seed = derive_seed(s.seed, self.shard, round_index, i)
            requests.append(Request(messages, s.max_new_tokens, s.temperature, s.top_p, seed,
                                    self._label_bias(bias, label), frequency_penalty=s.frequency_penalty))
            shown.append([ex.text for ex in examples])
            columns.append(row_columns)
        return requests, shown, columns

    def _next_target(self, label: str) -> Target:
        """The label's target with the fewest rows so far, then the fewest requests (the first of those tied)."""
        targets = [target for target in self.task.targets if target.label == label]
        target = min(targets, key=lambda t: (self.target_rows[t.label, t.hypothesis],
                                             self.target_uses[t.label, t.hypothesis]))
        self.target_uses[target.label, target.hypothesis] += 1
        return target

    def _label_bias(self, bias: dict[int, float], label: str) -> dict[int, float]:
        """The round's bias without the token ids of the label's own name and keywords."""
        if not bias:
            return bias
        if label not in self.protected:
            words = [word for name in members(self.task, label) for word in (name, *self.task.label(name).keywords)]
            self.protected[label] = {token for text in spellings(words) for token in self.backend.content_tokens(text)}
        return {token: value for token, value in bias.items() if token not in self.protected[label]}

    def _complete(self, requests: list[Request]) -> tuple[list[Completion | None], list[str]]:
        """Completions for every request: from the cache where finished before, else from the backend (each
        cached the moment it arrives); None for a request that failed for good or that `max_cost` left unsent."""
        s = self.settings
        keys = [request_key(self.backend.name, self.backend.model_id, r) for r in requests]
        done: dict[int, Completion] = {}
        for i, key in enumerate(keys):
            cached = self.cache.get(key)
            if cached is not None:
                done[i] = cached
                self.stats.cached_requests += 1
        missing = [i for i in range(len(requests)) if i not in done]
        affordable = self.spending.affordable([requests[i] for i in missing])
        missing, unsent = missing[:affordable], missing[affordable:]
        if unsent:
            self.stats.max_cost_reached = True
            logger.warning("max_cost %s reached: %d requests left unsent.", s.max_cost, len(unsent))
        failures: list[RequestFailure] = []
        if missing:
            for j, outcome in self.backend.generate([requests[i] for i in missing]):
                if isinstance(outcome, RequestFailure):
                    self.stats.failed[outcome.reason] += 1
                    failures.append(outcome)
                    continue
                self.cache.put(keys[missing[j]], outcome)
                self.spending.add(requests[missing[j]], outcome)
                done[missing[j]] = outcome
        self.stats.requests += len(requests) - len(unsent)
        if failures and not done:
            raise BackendUnavailable(
                f"every request of this round failed ({', '.join(sorted({f.reason for f in failures}))}: "
                f"{failures[0].detail}). The requests finished before are in the request cache; fix the server "
                "and run again to continue from there."
            )
        for completion in done.values():
            self.stats.prompt_tokens += completion.prompt_tokens
            self.stats.completion_tokens += completion.completion_tokens
        return [done.get(i) for i in range(len(requests))], keys

    def _row(
        self, text: str, label: str, request: Request, key: str, shown: list[str], round_index: int, index: int,
        verdict: Verdict | None,
    ) -> dict[str, Any]:
        s = self.settings
        if self.task.multi_label:
            labels = {"labels": list(members(self.task, label)), "prompted_labels": list(members(self.task, label))}
        else:
            labels = {"label": label, "prompted_label": label}
        checked = {} if verdict is None else {"label_check": verdict.label, "label_check_score": verdict.score}
        return {
            "text": text,
            **labels,
            "prompt_style": s.prompt,
            "in_context_examples": shown,
            "backend": self.backend.name,
            "model": self.backend.model_id,
            "temperature": s.temperature,
            "logit_suppression": s.logit_suppression,
            "round": round_index,
            "shard": self.shard,
            "request_seed": request.seed,
            "request_key": key,
            "candidate_index": index,
            **checked,
        }

