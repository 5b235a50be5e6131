"""`run_study`: the diversity paper's study on a task with real data. Each diversification's rows are generated
once per seed through `load_dataset` (one request cache for the whole study), every intervention is applied to
them, and every cell is measured against the real data; the JSON is written after each cell, so a rerun with the
same output resumes."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

import datasets
import numpy as np
from tqdm.auto import tqdm

from ..backends import make_backend
from ..builder import EMBEDDING_CACHE_FILE, REQUEST_CACHE_FILE, check_settings, generation_summary
from ..generation.cache import RequestCache
from ..generation.label_check import LLMChecker
from ..generation.prompts import MAX_CHOICE_LABELS
from ..generation.settings import GenerationSettings
from ..interventions.proxy import EmbeddingHandle
from ..interventions.selection import STRATEGIES
from ..metrics.accuracy import agreement
from ..metrics.diversity import average_pairwise_similarity, remote_clique
from ..metrics.similarity import similarity
from ..staging import staged_file, write_json
from ..task import TaskSpec, load_task, preset_names
from .grid import DIVERSIFICATIONS, SET_BY_STUDY, grid_cells
from .interventions import INTERVENTIONS, human_rows, in_scope_marks, intervene
from .reference import CLASSIFIERS, RealData, downstream_predictions, fit_classifier, load_real_data, scores, zero_shot
from .report import markdown_table, plot_study, summarise

STUDY_FILE, TABLE_FILE, FIGURE_FILE = "study.json", "study.md", "study.png"
MIN_ORACLE_ROWS = 200
K_VALUES = (90, 180)  # the real-row baselines' small sizes: the human labels of label replacement


def run_study(
    task: str | Mapping[str, Any],
    data: str,
    *,
    output: str,
    seeds: int = 3,
    rows: int = 400,
    grid: str | tuple = "default",
    cache_dir: str | None = None,
    test_rows: int = 2000,
    oracle_rows: int = 8000,
    generator_rows: int = 200,
    generation: Mapping[str, Any] | None = None,
    strategy: str = "diverse",
    classifier: str = "embedding",
) -> dict:
    """Run (or resume) the study and write `output`/study.json, study.md and study.png; returns the record.

    task: a preset name, a task YAML path or a dict; data: a folder holding TASK/train.jsonl and TASK/test.jsonl
    (or those files). grid: "default", "full" or a (diversifications, interventions) pair. cache_dir: the datasets
    and request cache (default: `output`/cache). test_rows: real test rows every cell is scored on; oracle_rows: real
    train rows the oracle is fitted on; generator_rows: test rows the generator classifies as a baseline.
    generation: further generation options for every cell (backend, model, ...). strategy: how the simulated
    person's k rows are chosen, "diverse" (the default of `hf-llmgen annotate`) or "random" (the paper's).
    classifier: the downstream classifier of every cell and real-row baseline, "embedding" (logistic regression on
    the packaged MiniLM's embeddings, seconds per cell on a CPU) or "finetune" (the packaged MiniLM fine-tuned as
    `hf-llmgen train` does, minutes per cell on a CPU). A study folder holds one strategy and one classifier.
    """
    spec = load_task(task)
    if spec.multi_label:
        raise ValueError(f"task: {spec.name!r} is multi-label; the study measures single-label tasks.")
    for name, value in (("seeds", seeds), ("rows", rows), ("test_rows", test_rows), ("oracle_rows", oracle_rows)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: must be a whole number of at least 1, got {value!r}.")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy: must be one of {STRATEGIES}, got {strategy!r}.")
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier: must be one of {CLASSIFIERS}, got {classifier!r}.")
    diversifications, interventions = grid_cells(grid)
    check_generation(dict(generation or {}), spec, diversifications, rows)
    real = load_real_data(data, spec, test_rows)
    pool = max(rows, *K_VALUES)
    if len(real.train) < pool + MIN_ORACLE_ROWS:
        raise ValueError(f"data: the real train split of {spec.name!r} has {len(real.train)} rows; the study needs "
                         f"{pool + MIN_ORACLE_ROWS} ({pool} for the real-row baselines, the rest for the oracle).")
    cache_dir = cache_dir or os.path.join(output, "cache")
    os.makedirs(output, exist_ok=True)
    study = Study(spec, task, real, pool, oracle_rows, cache_dir, dict(generation or {}), strategy, classifier)
    record = _read_record(os.path.join(output, STUDY_FILE), spec.name, rows, strategy, classifier)
    started = time.perf_counter()
    record["oracle"] = study.oracle_scores
    # measured again on every run (from the embedding and request caches after the first): always the current way
    record["baselines"] = study.baselines(generator_rows) + [
        baseline for seed in sorted(set(range(seeds)) | {c["seed"] for c in record["cells"]})
        for baseline in study.real_rows(seed, rows)]
    done = {(c["diversification"], c["intervention"], c["seed"]) for c in record["cells"]}
    with tqdm(total=seeds * len(diversifications) * len(interventions), desc="study cells") as bar:
        for seed in range(seeds):
            for diversification in diversifications:
                todo = [name for name in interventions if (diversification, name, seed) not in done]
                bar.update(len(interventions) - len(todo))
                if not todo:
                    continue
                generated, generation_record = study.generate(diversification, rows, seed)
                if not any((g["diversification"], g["seed"]) == (diversification, seed) for g in record["generations"]):
                    record["generations"].append(generation_record)  # a rerun's is served by the cache: keep the first
                for cell in study.cells(generated, diversification, todo, seed):
                    record["cells"].append(cell)
                    _write(output, record, time.perf_counter() - started)
                    started = time.perf_counter()
                    bar.update(1)
    record["cells"].sort(key=grid_order(diversifications, interventions))  # cells a rerun added go to their place
    _write(output, record, time.perf_counter() - started, final=True)
    return record


def grid_order(diversifications: Sequence[str], interventions: Sequence[str]) -> Callable[[dict], tuple]:
    """A sort key putting cells in the grid's order by seed (cells of another grid last)."""
    def place(names: Sequence[str], name: str) -> int:
        return names.index(name) if name in names else len(names)

    return lambda cell: (cell["seed"], place(diversifications, cell["diversification"]),
                         place(interventions, cell["intervention"]))


def check_generation(generation: dict, spec: TaskSpec, diversifications: Sequence[str], rows: int) -> None:
    """Raise ValueError for a generation option the study sets itself, does not know, or that is invalid, and for
    a diversification the task cannot take (attributed prompts without attributes): before any generation."""
    grid_set = set(SET_BY_STUDY)
    known = {f.name for f in fields(GenerationSettings)}
    wrong = sorted(set(generation) & grid_set) + sorted(set(generation) - known)
    if wrong:
        raise ValueError(f"generation: {wrong} cannot be given; the study sets {sorted(grid_set)} itself, and the "
                         f"other options are {sorted(known - grid_set)}.")
    GenerationSettings(task=spec.to_dict(), **generation).validate()
    for name in diversifications:
        try:
            check_settings(GenerationSettings(task=spec.to_dict(), num_examples=rows, **DIVERSIFICATIONS[name],
                                              **generation), spec)
        except ValueError as error:
            raise ValueError(f"grid: the {name!r} cells cannot run on {spec.name!r}: {error} (or leave {name!r} "
                             "out of the grid)") from None


class Study:
    """One task's real data, oracle and caches, and the study's steps on them."""

    def __init__(self, spec: TaskSpec, task: Any, real: RealData, pool: int, oracle_rows: int, cache_dir: str,
                 generation: dict, strategy: str, classifier: str) -> None:
        self.spec, self.real, self.pool, self.cache_dir, self.generation = spec, real, pool, cache_dir, generation
        self.strategy, self.classifier = strategy, classifier
        self.preset = task if isinstance(task, str) and task in preset_names() else None
        self.task_option = {} if self.preset else {"task": spec.to_dict()}
        self.embed = EmbeddingHandle(cache_path=os.path.join(cache_dir, EMBEDDING_CACHE_FILE))
        self.test_texts = [row["text"] for row in real.test]
        self.test_x = self.embed(self.test_texts)
        self.test_y = [row["label"] for row in real.test]
        oracle_train = real.train[pool:pool + oracle_rows]
        self.oracle_x = self.embed([row["text"] for row in oracle_train])
        self.oracle = fit_classifier(self.oracle_x, [row["label"] for row in oracle_train])
        self.oracle_scores = {"rows": len(oracle_train), **scores(self.oracle.predict(self.test_x), self.test_y),
                              "kind": "logistic regression (C=10) on all-MiniLM-L6-v2 embeddings of real train rows"}

    def baselines(self, generator_rows: int) -> list[dict]:
        """Zero-shot, and the generator's own few-shot classification of the first `generator_rows` test rows."""
        names = self.spec.label_names
        found = [{"baseline": "zero-shot (label names)", "seed": 0, "rows": 0,
                  **scores(zero_shot(names, self.embed, self.test_x), self.test_y)}]
        if len(names) <= MAX_CHOICE_LABELS and generator_rows > 0:
            found.append(self.generator_baseline(generator_rows))
        return found

    def real_rows(self, seed: int, rows: int) -> list[dict]:
        """The downstream classifier trained on k and on `rows` real train rows, drawn with `seed`."""
        order = np.random.default_rng(seed).permutation(self.pool)
        found = []
        for k in (*K_VALUES, rows):
            chosen = [self.real.train[i] for i in order[:k]]
            texts, labels = [r["text"] for r in chosen], [r["label"] for r in chosen]
            found.append({"baseline": f"real {k} rows", "seed": seed, "rows": k,
                          **self.downstream(texts, self.embed(texts), labels)})
        return found

    def generator_baseline(self, n: int) -> dict:
        """The generator choosing each test text's label (numbered options, the task's seed examples shown first,
        shuffled with a fixed seed so that their answers do not count 1, 2, 3, ...); `top_choice` is the label it
        chose most and the share of texts it chose it for (near 1: it answers the same whatever the text)."""
        texts, labels = [r["text"] for r in self.real.test[:n]], self.test_y[:n]
        examples = random.Random(0).sample(list(self.spec.examples), len(self.spec.examples))
        backend = make_backend(GenerationSettings(**self.generation))
        cache = RequestCache(os.path.join(self.cache_dir, REQUEST_CACHE_FILE))
        try:
            probabilities = LLMChecker(self.spec, backend, cache, examples).probabilities(texts)
        finally:
            backend.close()
            cache.close()
        names = np.array(self.spec.label_names)
        predicted = np.where(probabilities.sum(axis=1) > 0, names[probabilities.argmax(axis=1)], "")
        top, count = Counter(predicted.tolist()).most_common(1)[0]
        shots = f"{len(examples)}-shot" if examples else "zero-shot"
        return {"baseline": f"generator {shots} ({n} test rows)", "seed": 0, "rows": len(examples),
                "abstained": int(np.sum(predicted == "")), "top_choice": {"label": top, "share": count / len(texts)},
                **scores(list(predicted), labels)}

    def generate(self, diversification: str, rows: int, seed: int) -> tuple[datasets.Dataset, dict]:
        """The diversification's rows for `seed`, through the builder; always run again (never an earlier Arrow
        file), so the request cache, which serves what it holds, is what saves time."""
        started = time.perf_counter()
        builder = datasets.load_dataset_builder(
            "hf_llmgen", self.preset, cache_dir=self.cache_dir, num_examples=rows, seed=seed,
            **self.task_option, **DIVERSIFICATIONS[diversification], **self.generation)
        builder.download_and_prepare(download_mode=datasets.DownloadMode.FORCE_REDOWNLOAD)
        summary = generation_summary(builder).to_dict()
        generated = builder.as_dataset(split="train")
        return generated, {"diversification": diversification, "seed": seed, "rows": len(generated),
                           "requests": summary["requests"], "cached_requests": summary["cached_requests"],
                           "dropped": summary["dropped"], "seconds": round(time.perf_counter() - started, 1)}

    def cells(self, generated: datasets.Dataset, diversification: str, interventions: Sequence[str], seed: int):
        """Each intervention's cell on the generated rows, measured (no LLM call)."""
        vectors = self.embed(generated["text"])
        oracle_labels = list(self.oracle.predict(vectors))
        in_scope = in_scope_marks(vectors, self.oracle_x, self.test_x)
        chosen = {k: human_rows(vectors, k, seed, self.strategy)  # once per k: interventions share the person's rows
                  for k in {INTERVENTIONS[name].human_rows for name in interventions}}
        for name in interventions:
            intervention = INTERVENTIONS[name]
            rows, info = intervene(intervention, generated, chosen[intervention.human_rows], oracle_labels, in_scope,
                                   self.embed.cache_path)
            cell = {"diversification": diversification, "intervention": name, "seed": seed,
                    "out_of_scope_rows": int(np.sum(~in_scope)), **info}
            yield {**cell, **self.measure(rows)} if rows is not None else cell

    def measure(self, rows: datasets.Dataset) -> dict:
        """Diversity, similarity to the test rows, label accuracy against the oracle, and downstream scores."""
        names = rows.features["label"].names
        texts, labels = rows["text"], [names[i] for i in rows["label"]]
        if len(texts) < 2:
            return {"rows": len(texts), "note": "fewer than 2 rows: nothing to measure"}
        vectors = self.embed(texts)
        found = agreement(labels, list(self.oracle.predict(vectors)))
        result = {"rows": len(texts), "remote_clique": remote_clique(vectors),
                  "average_pairwise_similarity": average_pairwise_similarity(vectors),
                  "similarity_to_test": similarity(vectors, self.test_x), "label_accuracy": found.accuracy,
                  "label_accuracy_per_class": found.per_class}
        if len(set(labels)) < 2:
            return {**result, "note": "one label only: no classifier"}
        return {**result, **self.downstream(texts, vectors, labels)}

    def downstream(self, texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
        """Accuracy and macro-F1 on the test rows of the study's downstream classifier trained on these rows."""
        return scores(downstream_predictions(self.classifier, texts, vectors, labels, self.test_texts, self.test_x),
                      self.test_y)


def _read_record(path: str, task: str, rows: int, strategy: str, classifier: str) -> dict:
    """The study so far in `path` (a new one when there is none); an error when it holds another study."""
    if not os.path.exists(path):
        return {"task": task, "rows": rows, "strategy": strategy, "classifier": classifier, "cells": [],
                "generations": [], "baselines": [], "wall_seconds": 0.0}
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    record.setdefault("classifier", "embedding")  # the only one before the choice existed
    found = tuple(record.get(key) for key in ("task", "rows", "strategy", "classifier"))
    if found != (task, rows, strategy, classifier):
        raise ValueError(f"output: {path} holds a study of {found[0]!r} with {found[1]} rows, the {found[2]!r} "
                         f"strategy for the person's rows and the {found[3]!r} classifier; give another --output "
                         "for this one.")
    return record


def _write(output: str, record: dict, seconds: float, final: bool = False) -> None:
    """Add `seconds` to the study's wall time and write its JSON (and, when `final`, the table and figure)."""
    record["wall_seconds"] = round(record["wall_seconds"] + seconds, 1)
    record["summary"] = summarise(record["cells"], ("diversification", "intervention"))
    record["baseline_summary"] = summarise(record["baselines"], ("baseline",), ("rows", "accuracy", "macro_f1"))
    record["request_cache"] = cache_savings(record["generations"])
    write_json(os.path.join(output, STUDY_FILE), record)
    if final:
        with staged_file(os.path.join(output, TABLE_FILE)) as partial, open(partial, "w", encoding="utf-8") as f:
            f.write(markdown_table(record["summary"], record["baseline_summary"]))
        plot_study(os.path.join(output, FIGURE_FILE), record["summary"], record["baseline_summary"],
                   f"{record['task']}: {record['rows']} generated rows per cell")


def cache_savings(generations: Sequence[dict]) -> dict:
    """Requests the shared request cache served, and the generation time that saved at this study's own pace."""
    requests = sum(g["requests"] for g in generations)
    cached = sum(g["cached_requests"] for g in generations)
    seconds = sum(g["seconds"] for g in generations)
    pace = seconds / (requests - cached) if requests > cached else 0.0
    return {"requests": requests, "cached_requests": cached, "generation_seconds": round(seconds, 1),
            "seconds_saved_estimate": round(cached * pace, 1)}
