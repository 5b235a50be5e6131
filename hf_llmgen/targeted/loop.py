"""The targeted-data loop: find a classifier's blind spots on labelled data, write hypotheses, generate texts for
them, add them to the training data and retrain; round after round, each written to its own folder."""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from typing import Any, Mapping, Sequence

import datasets
import numpy as np
import yaml

from ..cards import write_card
from ..folders import TARGETED_REPORT, saved_split
from ..generation.settings import GenerationSettings
from ..metrics.embeddings import EmbeddingCache
from ..metrics.report import class_names
from ..output import prepare, write_generation
from ..registration import BUILDER_NAME
from ..staging import write_json
from ..task import Label, Target, TaskSpec, load_task, read_targets
from .blind_spots import (BlindSpot, NoConfidentErrors, Predictions, blind_spots, confidence_threshold,
                          confident_errors, predict)
from .hypotheses import describe_blind_spots, save_hypotheses, with_error_texts

REPORT = "report.json"
CARD_KEY = "hf_llmgen_targeted"
HYPOTHESES = "hypotheses.yaml"
TASK = "task.yaml"
ADDED = "added"
MODEL = "model"


def data_task(names: Sequence[str], text_type: str = "text") -> TaskSpec:
    """A task for labelled data that comes without one: its label names as their descriptions."""
    return TaskSpec(name="targeted", text_type=text_type, labels=tuple(Label(name, name) for name in names))


def scores(predictions: Predictions, threshold: float, own_threshold: float) -> dict[str, Any]:
    """Accuracy, macro-F1 and the count of errors at `threshold` or above (the starting classifier's, the same
    for every round) and at `own_threshold` or above (this classifier's own `confidence_threshold`: a retrained
    model that is surer of everything makes more errors above a fixed threshold without new blind spots)."""
    from sklearn.metrics import f1_score

    labels, predicted = predictions.labels, predictions.predicted
    return {
        "accuracy": float(np.mean([y == p for y, p in zip(labels, predicted)])),
        "macro_f1": float(f1_score(labels, predicted, average="macro")),
        "confident_errors": len(confident_errors(predictions, threshold)),
        "own_threshold": own_threshold,
        "confident_errors_own_threshold": len(confident_errors(predictions, own_threshold)),
        "rows": len(labels),
    }


def model_card_section(folder: str, report: Mapping[str, Any], targets: Sequence[Target]) -> None:
    """Add the round's hypotheses and before/after figures to a retrained model's card (metadata
    `hf_llmgen_targeted` and a section of text)."""
    from huggingface_hub import ModelCard

    path = os.path.join(folder, "README.md")
    card = ModelCard.load(path)
    card.data[CARD_KEY] = {key: report[key] for key in ("round", "threshold", "hypotheses", "added_rows", "before",
                                                       "test")}
    before, after = report["before"], report["test"]
    rows = "\n".join(f"| {t.label} | {t.mistaken_for or '–'} | {t.hypothesis} | {t.source} | "
                     f"{report['rows_per_hypothesis'].get(t.hypothesis, 0)} |" for t in targets)
    card.text = card.text.rstrip("\n") + (
        f"\n\n## Targeted training data (hf_llmgen, round {report['round']})\n\n"
        f"{report['added_rows']} generated rows were added to the training data for these hypotheses about the "
        "previous model's confident errors:\n\n| label | mistaken for | hypothesis | written by | rows |\n"
        f"|---|---|---|---|---|\n{rows}\n\n"
        f"On {after['rows']} held-out rows, before → after: accuracy {before['accuracy']:.3f} → "
        f"{after['accuracy']:.3f}, macro-F1 {before['macro_f1']:.3f} → {after['macro_f1']:.3f}, errors with "
        f"confidence ≥ {report['threshold']:.3f}: {before['confident_errors']} → {after['confident_errors']}; "
        f"errors at each model's own threshold (the median confidence of its right answers on the rows its blind "
        f"spots are found on: {before['own_threshold']:.3f} → {after['own_threshold']:.3f}): "
        f"{before['confident_errors_own_threshold']} → {after['confident_errors_own_threshold']}.\n"
    )
    card.save(path)


def rows_per_hypothesis(folder: str) -> dict[str, int]:
    """How many rows of a targeted generation's output folder each hypothesis got."""
    return dict(Counter(saved_split(folder, "train")["hypothesis"]))


def _text_and_label(dataset: datasets.Dataset, names: Sequence[str], text_column: str,
                    label_column: str) -> datasets.Dataset:
    """`dataset` as text and a ClassLabel `label` column with `names`, for concatenation."""
    from ..train import encode_labels

    data = dataset.select_columns([text_column, label_column])
    data = encode_labels(data, label_column, names)
    renames = {text_column: "text", label_column: "label"}
    return data.rename_columns({k: v for k, v in renames.items() if k != v})


class TargetedLoop:
    """Rounds of find -> hypothesise -> generate -> add -> retrain, written under `output`/round_N.

    train: the classifier's training rows; eval: labelled rows its blind spots are found on; test: held-out rows
    each round is scored on (default: eval). classifier: the model to start from (a folder or name; round 0).
    base_model: what each round fine-tunes on train + every added row (default: the packaged MiniLM body).
    task: a preset, YAML or TaskSpec for generation (default: one built from the label names).
    hypotheses: a file of hand-written hypotheses used in every round (one without `texts` shows the round's
    errors of its label pair as examples); without it the LLM describes each round's largest `max_hypotheses`
    blind spots. per_hypothesis: rows generated for each hypothesis.
    generation: options of the `hf_llmgen` builder (backend, model, label_check, ...). training: options of
    `train_classifier` (epochs, max_steps, min_steps, batch_size, learning_rate).
    threshold: confidence of an error that counts (default: the starting classifier's `confidence_threshold` on
    eval; kept for every round so the counts compare).
    """

    def __init__(
        self, classifier: str, train: datasets.Dataset, eval: datasets.Dataset, output: str, *,
        test: datasets.Dataset | None = None, base_model: str | None = None, task: Any = None,
        hypotheses: str | None = None, per_hypothesis: int = 8, max_hypotheses: int = 10,
        threshold: float | None = None,
        generation: Mapping[str, Any] | None = None, cache_dir: str | None = None, text_column: str = "text",
        label_column: str = "label", training: Mapping[str, Any] | None = None, seed: int = 0,
    ) -> None:
        names = class_names(train, label_column)
        self.task = load_task(task) if task is not None else data_task(names)
        if sorted(self.task.label_names) != sorted(names):
            raise ValueError(f"task: its labels {self.task.label_names} are not the training data's {names}; give the "
                             "task of this data.")
        self.names = self.task.label_names
        self.train = _text_and_label(train, self.names, text_column, label_column)
        self.eval = _text_and_label(eval, self.names, text_column, label_column)
        self.test = self.eval if test is None else _text_and_label(test, self.names, text_column, label_column)
        self.classifier, self.output, self.base_model = classifier, output, base_model
        self.human = read_targets(hypotheses, self.names) if hypotheses else None
        self.per_hypothesis, self.max_hypotheses = per_hypothesis, max_hypotheses
        self.threshold, self.seed, self.training = threshold, seed, dict(training or {})
        self.generation = dict(generation or {})
        fixed = sorted(set(self.generation) & {"task", "prompt", "targets", "num_examples", "seed"})
        if fixed:
            raise ValueError(f"generation: {fixed} are set by the loop (prompt='targeted', its hypotheses, "
                             "per_hypothesis rows each, seed + round); leave them out.")
        self.settings = GenerationSettings(task=self.task.to_dict(), **self.generation)
        self.settings.validate()
        self.cache_dir = cache_dir
        self.embeddings = EmbeddingCache()

    def run(self, rounds: int) -> list[dict[str, Any]]:
        """Every round's report (round 0: the starting classifier), running only the rounds not yet written; stops
        early when the latest model makes no error above the threshold on `eval` (after round 1: before it, that is
        an error)."""
        reports = [self._start()]
        for index in range(1, rounds + 1):
            try:
                reports.append(self._round(index, reports[-1]))
            except NoConfidentErrors:
                if index == 1:
                    raise
                break
        return reports

    def _folder(self, index: int) -> str:
        return os.path.join(self.output, f"round_{index}")

    def _done(self, index: int) -> dict[str, Any] | None:
        path = os.path.join(self._folder(index), REPORT)
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def _start(self) -> dict[str, Any]:
        report = self._done(0)
        if report is None:
            own = confidence_threshold(predict(self.classifier, self.eval))
            threshold = own if self.threshold is None else self.threshold
            test = scores(predict(self.classifier, self.test), threshold, own)
            report = {"round": 0, "model": self.classifier, "threshold": threshold, "test": test}
            os.makedirs(self._folder(0), exist_ok=True)
            write_json(os.path.join(self._folder(0), REPORT), report)
        self.threshold = report["threshold"]
        return report

    def _round(self, index: int, previous: dict[str, Any]) -> dict[str, Any]:
        done = self._done(index)
        if done is not None:
            return done
        folder = self._folder(index)
        found = blind_spots(predict(previous["model"], self.eval), self.eval["text"], self.threshold,
                            self.embeddings)[: self.max_hypotheses]
        os.makedirs(folder, exist_ok=True)
        targets, spots, dropped = self._hypotheses(found)
        if not targets:
            raise ValueError(f"the LLM wrote no usable hypothesis about the {len(found)} blind spots (answers dropped: "
                             f"{dict(dropped)}); write hypotheses by hand (hypotheses=...) or use a larger generator.")
        path = os.path.join(folder, HYPOTHESES)
        source = "human" if self.human else "llm"
        save_hypotheses(path, targets, spots, {"classifier": previous["model"], "threshold": round(self.threshold, 4),
                                               "source": source, "dropped_answers": dict(dropped)})
        summary = self._generate(targets, index)
        model = os.path.join(folder, MODEL)
        self._retrain(model, index)
        now = predict(model, self.eval)
        error_rows = [row for spot in found for row in spot.rows]
        report = {
            "round": index, "model": model, "threshold": self.threshold, "hypotheses": len(targets),
            "hypothesis_source": source, "dropped_answers": dict(dropped), "added_rows": summary["rows"],
            "rows_per_hypothesis": rows_per_hypothesis(os.path.join(folder, ADDED)),
            "blind_spot_errors": len(error_rows),
            "blind_spot_errors_now_right": sum(now.labels[i] == now.predicted[i] for i in error_rows),
            "before": previous["test"],
            "test": scores(predict(model, self.test), self.threshold, confidence_threshold(now)),
        }
        write_json(os.path.join(folder, ADDED, TARGETED_REPORT), report)
        write_card(os.path.join(folder, ADDED))
        model_card_section(model, report, targets)
        write_json(os.path.join(folder, REPORT), report)
        return report

    def _hypotheses(self, spots: list[BlindSpot]) -> tuple[list[Target], list[BlindSpot], Counter]:
        """The round's targets with the blind spots they describe (none for hand-written ones, which show the
        errors of their label pair instead where they have no texts of their own), and the LLM answers dropped by
        reason."""
        if self.human:
            return with_error_texts(self.human, spots), [], Counter()
        descriptions = {label.name: label.description for label in self.task.labels}
        return describe_blind_spots(spots, self.settings, self.task.text_type, descriptions)

    def _generate(self, targets: Sequence[Target], index: int) -> dict[str, Any]:
        """Generate `per_hypothesis` rows per target into the round's `added` folder, from a task file holding the
        targets (so the card's reproducing call is exact); the generation summary."""
        path = os.path.join(self._folder(index), TASK)
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(dataclasses.replace(self.task, targets=tuple(targets)).to_dict(), f, sort_keys=False,
                           allow_unicode=True)
        options = {**self.generation, "prompt": "targeted", "num_examples": self.per_hypothesis * len(targets),
                   "seed": self.seed + index}
        builder = datasets.load_dataset_builder(BUILDER_NAME, task=path, cache_dir=self.cache_dir, **options)
        prepare(builder)
        return write_generation(builder, os.path.join(self._folder(index), ADDED), task_argument=path,
                                option="output")

    def _added(self, index: int) -> list[datasets.Dataset]:
        """The rows added in rounds 1 to `index`, as text and label, in memory (so that no cache file of the
        conversion lands in a round's folder)."""
        added = []
        for i in range(1, index + 1):
            saved = saved_split(os.path.join(self._folder(i), ADDED), "train").select_columns(["text", "label"])
            added.append(_text_and_label(datasets.Dataset.from_dict(saved.to_dict(), features=saved.features),
                                         self.names, "text", "label"))
        return added

    def _retrain(self, model: str, index: int) -> None:
        from ..train import train_classifier

        data = datasets.concatenate_datasets([self.train, *self._added(index)])
        train_classifier(data, model, eval_dataset=self.test, model=self.base_model, seed=self.seed, **self.training)
