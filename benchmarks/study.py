"""The diversity paper's study (`hf_llmgen.study.run_study`) on real tasks with the embedded model: each task's
study folder (study.json, study.md, study.png) under `--output`, one result file with the machine and, per task,
the commit, peak memory (the most of all its runs), wall time and the request cache's savings, and overview.md: the
tasks' main figures side by side.

    python benchmarks/study.py --data ../shared/data --tasks sst2 emotion ag_news trec --seeds 3 --rows 400

A rerun with the same `--output` and `--cache-dir` resumes each task's study where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os

from record import commit, machine, peak_rss_mib, write_result

from hf_llmgen.study import GRIDS, run_study
from hf_llmgen.study.reference import CLASSIFIERS
from hf_llmgen.study.run import STUDY_FILE

HERE = os.path.dirname(os.path.abspath(__file__))
OVERVIEW_FILE = "overview.md"
OVERVIEW_INTERVENTIONS = ("LR proxy k=90", "LR proxy k=180", "LR oracle", "OOSF k=180", "LR + OOSF k=180")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--tasks", nargs="+", default=["sst2", "emotion", "ag_news", "trec"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--grid", choices=tuple(GRIDS), default="default")
    parser.add_argument("--classifier", choices=CLASSIFIERS, default="embedding")
    parser.add_argument("--cache-dir", default=None, help="datasets and request cache (default: each study's own)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "study"))
    args = parser.parse_args()

    runs_file = os.path.join(args.output, "study_runs.json")
    tasks = json.load(open(runs_file, encoding="utf-8"))["tasks"] if os.path.exists(runs_file) else {}
    code = commit()  # what this process runs, though the checkout may move on while it does
    for task in args.tasks:
        record = run_study(task, args.data, output=os.path.join(args.output, task), seeds=args.seeds, rows=args.rows,
                           grid=args.grid, cache_dir=args.cache_dir, classifier=args.classifier)
        before = tasks.get(task, {})
        tasks[task] = {key: record[key] for key in ("wall_seconds", "request_cache", "oracle")}
        tasks[task].update(cells=len(record["cells"]), commit=code,
                           peak_rss_mib=max(before.get("peak_rss_mib", 0), round(peak_rss_mib())))
        write_result(runs_file, {"machine": machine(), "seeds": args.seeds, "rows": args.rows, "grid": args.grid,
                                 "classifier": args.classifier, "tasks": tasks})
        with open(os.path.join(args.output, OVERVIEW_FILE), "w", encoding="utf-8") as f:
            f.write(overview(args.output, list(tasks)))


def overview(output: str, tasks: list[str]) -> str:
    """The tasks side by side (Markdown): per diversification its diversity, label accuracy and downstream accuracy
    without intervention and after each intervention; then each task's oracle and baselines."""
    records = {task: json.load(open(os.path.join(output, task, STUDY_FILE), encoding="utf-8")) for task in tasks}
    lines = ["| task | diversification | seeds | diversity | label acc. | downstream: none | "
             + " | ".join(OVERVIEW_INTERVENTIONS) + " |", "|" + "---|" * (6 + len(OVERVIEW_INTERVENTIONS))]
    for task, record in records.items():
        cells = {(row["diversification"], row["intervention"]): row for row in record["summary"]}
        for diversification in dict.fromkeys(row["diversification"] for row in record["summary"]):
            plain = cells[(diversification, "none")]
            figures = [str(plain["seeds"]),
                       *(figure(plain, metric) for metric in ("remote_clique", "label_accuracy", "accuracy")),
                       *(figure(cells.get((diversification, name), {}), "accuracy") for name in OVERVIEW_INTERVENTIONS)]
            lines.append(f"| {task} | {diversification} | " + " | ".join(figures) + " |")
    names = list(dict.fromkeys(baseline(row) for r in records.values() for row in r["baseline_summary"]))
    lines += ["", "| task | oracle | " + " | ".join(names) + " |", "|" + "---|" * (2 + len(names))]
    for task, record in records.items():
        found = {baseline(row): row for row in record["baseline_summary"]}
        lines.append(f"| {task} | {record['oracle']['accuracy']:.3f} | "
                     + " | ".join(figure(found.get(name, {}), "accuracy") for name in names) + " |")
    return "\n".join(lines) + "\n"


def baseline(row: dict) -> str:
    """A baseline's column: its name without the details that differ by task ("generator 4-shot (200 test rows)")."""
    return "generator few-shot" if row["baseline"].startswith("generator") else row["baseline"].split(" (")[0]


def figure(row: dict, metric: str) -> str:
    """`metric`'s mean in `row`, with its spread over seeds when there are several; n/a when it has none."""
    if metric not in row:
        return "n/a"
    return f"{row[metric]:.3f}" + (f" ± {row[metric + '_std']:.3f}" if row.get("seeds", 1) > 1 else "")


if __name__ == "__main__":
    main()
