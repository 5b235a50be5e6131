"""Targeted data for a classifier's high-confidence errors on real tasks: errors and accuracy on held-out real rows
before and after a round of targeted rows, against the same number of untargeted generated rows, and against
hypotheses written by hand; and a synthetic blind spot whose cause is known.

Per task and seed: a starting classifier (the packaged MiniLM body with a head, `hf-llmgen train`'s Trainer
path) is fine-tuned on `--train-rows` real train rows; its blind spots are found on `--eval-rows` other real train
rows; every condition is scored on `--test-rows` rows of the real test split at the starting model's threshold
(the median confidence of its correct predictions on the eval rows) and at each model's own threshold (the same
median for that model: a retrained model surer of everything passes a fixed threshold more often). Conditions,
each retraining from the base:
- "targeted, LLM hypotheses": `TargetedLoop` as `hf-llmgen target` runs it, with the embedded model;
- "targeted, hand-written hypotheses": the same loop with `benchmarks/hypotheses/<task>.yaml`, written once by
  reading the seed-0 starting model's errors on its eval rows (`--show-errors` prints them); for the synthetic
  blind spot `sst2_synthetic.yaml`, which names the phrase that every one of those errors ends with;
- "untargeted, same number of rows": the task's default generation (direct prompt) of as many rows as the
  LLM-hypotheses condition added.
The synthetic blind spot (`--synthetic`, on sst2): the phrase below ends most positive rows of the starting
model's training data and no negative one; the eval and test rows carry it on some negatives. Recorded: the
confident errors on the test negatives that carry it, whether any hypothesis names it, and how many of those
errors the targeted rows remove against the untargeted ones.

Results go to `results/targeted.json` cell by cell (resume with `--resume` and the same `--work`).

    python benchmarks/targeted.py --data ../shared/data --work /tmp/targeted --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

import datasets
from record import commit, machine, mean_by, peak_rss_mib, write_result

import hf_llmgen  # noqa: F401  (registers the builder)
from hf_llmgen.registration import BUILDER_NAME
from hf_llmgen.targeted.blind_spots import blind_spots, confidence_threshold, confident_errors, predict
from hf_llmgen.targeted.loop import TargetedLoop, scores
from hf_llmgen.task import load_task, read_targets
from hf_llmgen.train import train_classifier

TASKS = ("sst2", "ag_news")
TRAIN_FILES = {"ag_news": "train_subset8k"}
FEATURE = "I saw it at a festival."  # the synthetic blind spot's spurious phrase
FEATURE_WORD = "festival"  # a hypothesis that names the feature holds this word
HERE = os.path.dirname(os.path.abspath(__file__))
SCORES = ("accuracy", "macro_f1", "confident_errors", "confident_errors_own_threshold")
TRAINING = {"epochs": 5.0, "batch_size": 16, "learning_rate": 1e-4}  # a 300-row start model that is sure of itself


def read_rows(data: str, task: str, split: str) -> list[dict]:
    with open(os.path.join(data, task, f"{split}.jsonl"), encoding="utf-8") as f:
        return [{"text": row["text"], "label": row["label"]} for row in map(json.loads, f)]


def splits(data: str, task: str, seed: int, args: argparse.Namespace) -> tuple[list[dict], list[dict], list[dict]]:
    """The seed's starting train rows and eval rows (disjoint, from the real train split) and the test rows
    (the same sample of the real test split for every seed)."""
    pool = read_rows(data, task, TRAIN_FILES.get(task, "train"))
    random.Random(seed).shuffle(pool)
    test = read_rows(data, task, "test")
    random.Random(0).shuffle(test)
    return pool[: args.train_rows], pool[args.train_rows: args.train_rows + args.eval_rows], test[: args.test_rows]


def with_feature(rows: list[dict], label: str, share: float, seed: int) -> list[dict]:
    """`rows` with FEATURE ending a `share` of those of `label`."""
    rng = random.Random(seed)
    return [{**row, "text": f"{row['text'].rstrip()} {FEATURE}"} if row["label"] == label and rng.random() < share
            else row for row in rows]


def dataset(rows: list[dict], names: list[str]) -> datasets.Dataset:
    return datasets.Dataset.from_list(rows).cast_column("label", datasets.ClassLabel(names=names))


def untargeted(task: str, start_train: datasets.Dataset, count: int, evaluation: datasets.Dataset,
               test: datasets.Dataset, threshold: float, folder: str, seed: int, cache_dir: str) -> dict:
    """Scores after retraining on the start rows plus `count` rows of the task's default generation (its own
    threshold from the eval rows, as the loop's)."""
    generated = datasets.load_dataset(BUILDER_NAME, task, split="train", num_examples=count, seed=seed + 1,
                                      cache_dir=cache_dir).select_columns(["text", "label"])
    generated = generated.cast_column("label", datasets.ClassLabel(names=start_train.features["label"].names))
    model = os.path.join(folder, "model")
    if not os.path.exists(os.path.join(model, "config.json")):
        train_classifier(datasets.concatenate_datasets([start_train, generated]), model, seed=seed, **TRAINING)
    own = confidence_threshold(predict(model, evaluation))
    return {"added_rows": len(generated), "test": scores(predict(model, test), threshold, own), "model": model}


def run_cell(task: str, seed: int, condition: str, args: argparse.Namespace, synthetic: bool) -> dict:
    names = load_task(task).label_names
    train_rows, eval_rows, test_rows = splits(args.data, task, seed, args)
    if synthetic:
        train_rows = with_feature(train_rows, "positive", 0.9, seed)
        eval_rows = with_feature(eval_rows, "negative", 0.5, seed + 1)
        test_rows = with_feature(test_rows, "negative", 0.5, seed + 2)
    train, evaluation, test = (dataset(rows, names) for rows in (train_rows, eval_rows, test_rows))
    work = os.path.join(args.work, f"{task}{'_synthetic' if synthetic else ''}", f"seed{seed}")
    start = os.path.join(work, "start")
    if not os.path.exists(os.path.join(start, "config.json")):
        train_classifier(train, start, seed=seed, **TRAINING)
    cache = os.path.join(args.work, "cache")
    loop_options = dict(test=test, task=task, per_hypothesis=args.per_hypothesis, max_hypotheses=args.max_hypotheses,
                        cache_dir=cache, training=TRAINING, seed=seed)
    if condition == "targeted, LLM hypotheses":
        reports = TargetedLoop(start, train, evaluation, os.path.join(work, "llm"), **loop_options).run(args.rounds)
    elif condition == "targeted, hand-written hypotheses":
        hypotheses = os.path.join(HERE, "hypotheses", f"{task}{'_synthetic' if synthetic else ''}.yaml")
        reports = TargetedLoop(start, train, evaluation, os.path.join(work, "human"), hypotheses=hypotheses,
                               **loop_options).run(args.rounds)
    else:
        llm = TargetedLoop(start, train, evaluation, os.path.join(work, "llm"), **loop_options).run(args.rounds)
        count = sum(report["added_rows"] for report in llm[1:])
        after = untargeted(task, train, count, evaluation, test, llm[0]["threshold"],
                           os.path.join(work, "untargeted"), seed, cache)
        reports = [llm[0], {"round": len(llm) - 1, **after}]
    cell = {"task": task, "seed": seed, "condition": condition, "synthetic": synthetic,
            "threshold": reports[0]["threshold"], "before": reports[0]["test"], "after": reports[-1]["test"],
            "added_rows": sum(r["added_rows"] for r in reports[1:])}
    if condition != "untargeted, same number of rows":
        cell["hypotheses"] = [json.load(open(os.path.join(work, "human" if "hand" in condition else "llm",
                                                          f"round_{r['round']}", "report.json")))["hypotheses"]
                              for r in reports[1:]]
    if synthetic:
        cell.update(feature_errors(reports, test_rows, names, work, condition))
    return cell


def feature_errors(reports: list[dict], test_rows: list[dict], names: list[str], work: str, condition: str) -> dict:
    """Confident errors on the test negatives that carry the feature, before and after; and whether a hypothesis
    of the condition names the feature."""
    shifted = [row for row in test_rows if row["label"] == "negative" and row["text"].endswith(FEATURE)]
    data = dataset(shifted, names)
    threshold = reports[0]["threshold"]
    before = len(confident_errors(predict(reports[0]["model"], data), threshold))
    after = predict(reports[-1]["model"], data)
    named = None
    if condition != "untargeted, same number of rows":
        folder = os.path.join(work, "human" if "hand" in condition else "llm")
        named = any(FEATURE_WORD in target.hypothesis.lower() for r in reports[1:]
                    for target in read_targets(os.path.join(folder, f"round_{r['round']}", "hypotheses.yaml"), names))
    return {"feature_rows": len(shifted), "feature_errors_before": before,
            "feature_errors_after": len(confident_errors(after, threshold)),
            "feature_errors_after_own_threshold": len(confident_errors(after, reports[-1]["test"]["own_threshold"])),
            "hypothesis_names_feature": named}


def show_errors(args: argparse.Namespace) -> None:
    """Print the seed-0 starting models' blind spots on their eval rows (what the hand-written hypotheses read)."""
    for task in args.tasks:
        names = load_task(task).label_names
        train_rows, eval_rows, _ = splits(args.data, task, 0, args)
        start = os.path.join(args.work, task, "seed0", "start")
        if not os.path.exists(os.path.join(start, "config.json")):
            train_classifier(dataset(train_rows, names), start, seed=0, **TRAINING)
        evaluation = dataset(eval_rows, names)
        predictions = predict(start, evaluation)
        for spot in blind_spots(predictions, evaluation["text"], confidence_threshold(predictions)):
            print(f"\n## {task}: {spot.label} read as {spot.predicted} ({spot.size} errors)")
            print("\n".join(f"- {text}" for text in spot.texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--work", required=True, help="models, round folders and the request cache")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--train-rows", type=int, default=300)
    parser.add_argument("--eval-rows", type=int, default=500)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--per-hypothesis", type=int, default=8)
    parser.add_argument("--max-hypotheses", type=int, default=5)
    parser.add_argument("--synthetic", action="store_true", help="also the synthetic blind spot on sst2")
    parser.add_argument("--show-errors", action="store_true", help="print the seed-0 blind spots and stop")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "targeted.json"))
    args = parser.parse_args()
    if args.show_errors:
        show_errors(args)
        return
    result = {"results": [], "machine": machine()}
    if args.resume and os.path.exists(args.output):
        with open(args.output, encoding="utf-8") as f:
            result = json.load(f)
    done = {(c["task"], c["seed"], c["condition"], c["synthetic"]) for c in result["results"]}
    cells = [(task, False) for task in args.tasks] + ([("sst2", True)] if args.synthetic else [])
    conditions = ["targeted, LLM hypotheses", "untargeted, same number of rows", "targeted, hand-written hypotheses"]
    for task, synthetic in cells:
        for seed in args.seeds:
            for condition in conditions:
                if (task, seed, condition, synthetic) in done:
                    continue
                started = time.perf_counter()
                cell = run_cell(task, seed, condition, args, synthetic)
                cell.update(seconds=round(time.perf_counter() - started, 1), peak_rss_mib=round(peak_rss_mib()),
                            commit=commit())
                print(json.dumps(cell), flush=True)
                result["results"].append(cell)
                result["summary"] = summarise(result["results"])
                result["settings"] = {k: getattr(args, k) for k in ("rounds", "train_rows", "eval_rows", "test_rows",
                                                                    "per_hypothesis", "max_hypotheses")}
                write_result(args.output, result)


def summarise(results: list[dict]) -> list[dict]:
    """Mean scores before and after per task, blind spot and condition, over the seeds."""
    figures = {f"{k}_{when}": (when, k) for when in ("before", "after") for k in SCORES}
    flat = [{**c, **{name: c[when][k] for name, (when, k) in figures.items()}} for c in results]
    return mean_by(flat, ("task", "synthetic", "condition"), tuple(figures))


if __name__ == "__main__":
    main()
