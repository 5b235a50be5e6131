"""Label fidelity of generated rows on real tasks: label accuracy, the label checks' own accuracy, downstream
accuracy, beside a zero-shot classifier and the same classifier trained on real rows.

For each task, rows are generated with the embedded model in each setting of the grid (the old default, each
prompt style, each label check and policy; see SETTINGS), and measured against the task's real data:
- label accuracy: agreement with an oracle, logistic regression on all-MiniLM-L6-v2 embeddings of up to
  `--oracle-rows` real train rows (its own test accuracy is recorded);
- each checker's accuracy (embedding, proxy fitted on 100 oracle-labelled rows, llm) against the oracle, on the
  rows of the setting whose check only flags them;
- downstream accuracy and macro-F1 on the real test split of logistic regression on the same embeddings,
  trained on the generated rows, and again after label replacement with 180 oracle labels (a simulated human).
Baselines on the same test rows: zero-shot (nearest label-name embedding), and the classifier on 180 and 600
real train rows. The `proxy` check settings are fitted on those 180 real rows and their labels; the "label shares"
setting gives each label its share of the real train split (the rest split rows evenly over labels).

Each (task, setting) cell is written to the result file as soon as it is measured; with `--resume` (and the
same `--cache-dir`, which holds the request cache) a later run skips the cells already there (a cell is a task, a setting and
a row count), so the grid can be filled over several runs. Each cell records the commit it was measured at.

    python benchmarks/label_fidelity.py --data ../shared/data --rows 200 --cache-dir ~/.cache/hf_llmgen_fidelity
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter

import datasets
import numpy as np
from record import commit, machine, markdown_table, peak_rss_mib, write_result

import hf_llmgen  # noqa: F401  (registers the builder)
from hf_llmgen.backends.local import LocalBackend
from hf_llmgen.builder import generation_summary
from hf_llmgen.generation.cache import RequestCache
from hf_llmgen.generation.label_check import LLMChecker, ProxyChecker
from hf_llmgen.generation.parse import normalise
from hf_llmgen.interventions.proxy import EmbeddingHandle
from hf_llmgen.metrics.accuracy import agreement as metric_agreement
from hf_llmgen.interventions.relabel import ProxyRelabeler
from hf_llmgen.study.reference import fit_classifier, read_rows, scores, split_path, zero_shot
from hf_llmgen.task import load_task

TASKS = ("sst2", "emotion", "ag_news", "trec", "sms_spam")
DEFAULT = {"prompt": "direct", "label_check": "embedding", "label_policy": "drop", "logit_suppression": 1.0}
WITHOUT_SUPPRESSION = {**DEFAULT, "logit_suppression": 0.0}  # the default until suppression was measured to help
SETTINGS = {
    "old default (elements, no check)": {"prompt": "elements", "label_check": "none", "logit_suppression": 0.0},
    "direct, embedding check drops, logit suppression 1 (default)": DEFAULT,
    "direct, embedding check drops, no suppression": WITHOUT_SUPPRESSION,
    "direct, check flags only, no suppression": {**WITHOUT_SUPPRESSION, "label_policy": "keep"},
    "direct, no check, no suppression": {**WITHOUT_SUPPRESSION, "label_check": "none"},
    "direct, embedding check relabels, no suppression": {**WITHOUT_SUPPRESSION, "label_policy": "relabel"},
    "direct, proxy check (real 180) drops, no suppression": {**WITHOUT_SUPPRESSION, "label_check": "proxy"},
    "direct, llm check drops, no suppression": {**WITHOUT_SUPPRESSION, "label_check": "llm"},
    "simple, embedding check drops, no suppression": {**WITHOUT_SUPPRESSION, "prompt": "simple"},
    "elements, embedding check drops, no suppression": {**WITHOUT_SUPPRESSION, "prompt": "elements"},
    "attributes, embedding check drops, no suppression": {**WITHOUT_SUPPRESSION, "prompt": "attributes"},
    "direct, embedding check drops, temperature 1.0, no suppression": {**WITHOUT_SUPPRESSION, "temperature": 1.0},
    "direct, embedding check drops, label shares of the real data, no suppression": {
        **WITHOUT_SUPPRESSION, "label_shares": "real train split"},
    "direct, check flags only (default with keep)": {**DEFAULT, "label_policy": "keep"},
    "elements, embedding check drops, logit suppression 1": {**DEFAULT, "prompt": "elements"},
    "direct, embedding check drops, logit suppression 1, temperature 1.0": {**DEFAULT, "temperature": 1.0},
}  # "check flags only" makes its drop setting's first requests (served from the request cache); "no check" lets
# every row into the example pool, so its later prompts differ. Every setting names its logit suppression: the
# cells measured before it became the default ran without it, and keep their meaning.
LLM_CHECK_ROWS = 100  # the llm check costs about a second a row here: it is measured on the first 100
HUMAN_LABELS = 180
TEST_ROWS = 2000


def agreement(labels: list[str], reference: list[str]) -> dict | None:
    """Share of `labels` equal to `reference`, overall and per class of `labels` (None without rows)."""
    if not labels:
        return None
    result = metric_agreement(labels, reference)
    return {"overall": result.accuracy, "per_class": result.per_class}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS), metavar="SETTING")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracle-rows", type=int, default=8000)
    parser.add_argument("--cache-dir", default=None, help="datasets and request cache (default: a temp folder)")
    parser.add_argument("--resume", action="store_true", help="keep the cells already in --output and skip them")
    default_output = os.path.join(os.path.dirname(__file__), "results", "label_fidelity.json")
    parser.add_argument("--output", default=default_output)
    args = parser.parse_args()

    work = args.cache_dir or tempfile.mkdtemp(prefix="hf_llmgen_fidelity_")
    embed = EmbeddingHandle(cache_path=os.path.join(work, "embeddings.sqlite"))
    record = {"results": [], "checkers": [], "baselines": [], "oracles": {}}
    if args.resume and os.path.exists(args.output):
        with open(args.output, encoding="utf-8") as f:
            record.update(json.load(f))
    done = {(r["task"], r["set"], r.get("requested_rows", r["rows"])) for r in record["results"]}
    record.update({
        "machine": machine(), "seed": args.seed, "test_rows": TEST_ROWS, "human_labels_simulated_by_oracle": HUMAN_LABELS,
        "oracle": "logistic regression (C=10) on all-MiniLM-L6-v2 embeddings of real train rows",
    })
    for task_name in args.tasks:
        todo = [setting for setting in args.settings if (task_name, setting, args.rows) not in done]
        if not todo:
            continue
        task = load_task(task_name)
        rng = np.random.default_rng(args.seed)
        folder = os.path.join(args.data, task_name)
        train = read_rows(split_path(folder, "train"))
        train = [train[i] for i in rng.permutation(len(train))]
        test = read_rows(split_path(folder, "test"))
        test = [test[i] for i in rng.permutation(len(test))[:TEST_ROWS]]
        test_x, test_y = embed([r["text"] for r in test]), [r["label"] for r in test]
        oracle_rows = train[600:600 + args.oracle_rows]
        oracle = fit_classifier(embed([r["text"] for r in oracle_rows]), [r["label"] for r in oracle_rows])
        record["oracles"][task_name] = {"rows": len(oracle_rows), **scores(oracle.predict(test_x), test_y)}
        record.setdefault("real_shared_openings", {})[task_name] = shared_openings([r["text"] for r in train[:400]])
        record["baselines"] = [b for b in record["baselines"] if b["task"] != task_name] + baselines(
            task, train, embed, test_x, test_y)
        for setting in todo:
            options = dict(SETTINGS[setting])
            if options["label_check"] == "proxy":
                options["human_labels"] = {r["text"]: r["label"] for r in train[:HUMAN_LABELS]}
            if options.pop("label_shares", None):
                options["task"] = with_real_shares(task, train)
            row, data = measure_setting(task, setting, options, args, work, embed, oracle, test_x, test_y)
            record["results"].append(row)
            print(json.dumps(row), flush=True)
            if options.get("label_policy") == "keep":
                labels = [data.features["label"].int2str(v) for v in data["label"]]
                oracle_labels = list(oracle.predict(embed(data["text"])))
                record["checkers"] = [c for c in record["checkers"] if (c["task"], c["set"]) != (task_name, setting)] + [
                    {**check_accuracies(task, data["text"], labels, data["label_check"], oracle_labels, embed, work),
                     "set": setting}]
                print(json.dumps(record["checkers"][-1]), flush=True)
            record["peak_rss_mib"] = max(record.get("peak_rss_mib", 0), round(peak_rss_mib()))
            write_result(args.output, record)
    print(markdown_table([{**r, "label_accuracy": r["label_accuracy"]["overall"],
                           "downstream": r["downstream"]["accuracy"],
                           "after_lr180": r["downstream_after_lr180"]["accuracy"]} for r in record["results"]],
                         ("task", "set", "rows", "requests", "seconds", "label_accuracy", "downstream", "after_lr180")))
    print(markdown_table(record["baselines"], ("task", "set", "accuracy", "macro_f1")))


OPENING_WORDS = 8


def shared_openings(texts: list[str]) -> float:
    """Share of the texts longer than 8 words whose first 8 words (normalised) open an earlier text too."""
    seen, shared, counted = set(), 0, 0
    for text in texts:
        words = normalise(text).split()
        if len(words) > OPENING_WORDS:
            opening = " ".join(words[:OPENING_WORDS])
            counted += 1
            shared += opening in seen
            seen.add(opening)
    return shared / max(counted, 1)


def baselines(task, train: list[dict], embed, test_x: np.ndarray, test_y: list[str]) -> list[dict]:
    """Zero-shot (nearest label-name embedding) and the classifier on 180 and on 600 real train rows."""
    rows = [{"task": task.name, "set": "zero-shot (label names)",
             **scores(zero_shot(task.label_names, embed, test_x), test_y)}]
    for k in (HUMAN_LABELS, 600):
        model = fit_classifier(embed([r["text"] for r in train[:k]]), [r["label"] for r in train[:k]])
        rows.append({"task": task.name, "set": f"real {k}", **scores(model.predict(test_x), test_y)})
    return rows


def with_real_shares(task, train: list[dict]) -> dict:
    """The task as a dict, each label given its share of the real train split."""
    counts = Counter(r["label"] for r in train)
    spec = task.to_dict()
    spec["labels"] = [{**label, "share": counts[label["name"]]} for label in spec["labels"]]
    return spec


def measure_setting(task, setting: str, options: dict, args, work: str, embed, oracle, test_x, test_y):
    """Generate one cell's rows and measure them: (the cell's record, its dataset)."""
    names = task.label_names
    started = time.perf_counter()
    preset = None if "task" in options else task.name
    builder = datasets.load_dataset_builder(
        "hf_llmgen", preset, cache_dir=work, num_examples=args.rows, seed=args.seed, **options
    )
    builder.download_and_prepare()
    data = builder.as_dataset(split="train")
    seconds = time.perf_counter() - started
    summary = generation_summary(builder).to_dict()
    texts = data["text"]
    labels = [data.features["label"].int2str(v) for v in data["label"]]
    vectors = embed(texts)
    oracle_labels = list(oracle.predict(vectors))
    relabeler = ProxyRelabeler(names, embedding_cache_path=embed.cache_path)
    human = min(HUMAN_LABELS, len(texts))
    relabeler.fit(texts[:human], oracle_labels[:human])
    relabelled = [names[i] for i in relabeler.scores(texts, np.array([names.index(x) for x in labels])).argmax(1)]
    relabelled[:human] = oracle_labels[:human]
    row = {
        "task": task.name, "set": setting, "commit": commit(), "requested_rows": args.rows, "rows": len(texts),
        "options": {name: value for name, value in options.items() if name not in ("task", "human_labels")},
        "requests": summary["requests"], "cached_requests": summary["cached_requests"],
        "seconds": round(seconds, 1), "dropped": summary["dropped"], "label_check": summary["label_check"],
        "label_accuracy": agreement(labels, oracle_labels), "shared_openings": shared_openings(texts),
        "downstream": scores(fit_classifier(vectors, labels).predict(test_x), test_y),
        "downstream_after_lr180": scores(fit_classifier(vectors, relabelled).predict(test_x), test_y),
    }
    return row, data


def check_accuracies(task, texts, labels, embedding_verdicts, oracle_labels, embed, work) -> dict:
    """Each checker's agreement with the oracle on the same rows, and the embedding check's cost per row."""
    result = {"task": task.name, "rows": len(texts),
              "prompted_vs_oracle": float(np.mean(np.array(labels) == np.array(oracle_labels))),
              "embedding": agreement(oracle_labels, list(embedding_verdicts))}
    fresh = EmbeddingHandle(cache_path=os.path.join(work, f"cost-{task.name}.sqlite"))
    fresh(["warm up the model"])
    started = time.perf_counter()
    fresh(texts)
    result["embedding_seconds_per_row"] = (time.perf_counter() - started) / len(texts)
    human = min(HUMAN_LABELS, len(texts) // 2)
    proxy = ProxyChecker(task, dict(zip(texts[:human], oracle_labels[:human])), embed.cache_path)
    verdicts = proxy.check(texts[human:], labels[human:])
    result["proxy"] = agreement(oracle_labels[human:], [v.label for v in verdicts])
    backend = LocalBackend()
    cache = RequestCache(os.path.join(work, "judge.sqlite"))
    started = time.perf_counter()
    verdicts = LLMChecker(task, backend, cache).check(texts[:LLM_CHECK_ROWS], labels[:LLM_CHECK_ROWS])
    result["llm_seconds_per_row"] = (time.perf_counter() - started) / len(verdicts)
    answered = [(v.label, o) for v, o in zip(verdicts, oracle_labels) if v.label]
    result["llm"] = agreement([o for _, o in answered], [a for a, _ in answered])
    result["llm_rows"], result["llm_abstained"] = len(verdicts), len(verdicts) - len(answered)
    backend.close()
    cache.close()
    return result


if __name__ == "__main__":
    main()
