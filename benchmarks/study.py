"""The diversity paper's study (`hf_llmgen.study.run_study`) on real tasks with the embedded model: each task's
study folder (study.json, study.md, study.png) under `--output`, and one result file with the machine and, per task,
the commit, peak memory (the most of all its runs), wall time and the request cache's savings.

    python benchmarks/study.py --data ../shared/data --tasks sst2 emotion ag_news trec --seeds 3 --rows 400

A rerun with the same `--output` and `--cache-dir` resumes each task's study where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os

from record import commit, machine, peak_rss_mib, write_result

from hf_llmgen.study import GRIDS, run_study

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--tasks", nargs="+", default=["sst2", "emotion", "ag_news", "trec"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--grid", choices=tuple(GRIDS), default="default")
    parser.add_argument("--cache-dir", default=None, help="datasets and request cache (default: each study's own)")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "study"))
    args = parser.parse_args()

    runs_file = os.path.join(args.output, "study_runs.json")
    tasks = json.load(open(runs_file, encoding="utf-8"))["tasks"] if os.path.exists(runs_file) else {}
    code = commit()  # what this process runs, though the checkout may move on while it does
    for task in args.tasks:
        record = run_study(task, args.data, output=os.path.join(args.output, task), seeds=args.seeds, rows=args.rows,
                           grid=args.grid, cache_dir=args.cache_dir)
        before = tasks.get(task, {})
        tasks[task] = {key: record[key] for key in ("wall_seconds", "request_cache", "oracle")}
        tasks[task].update(cells=len(record["cells"]), commit=code,
                           peak_rss_mib=max(before.get("peak_rss_mib", 0), round(peak_rss_mib())))
        write_result(runs_file, {"machine": machine(), "seeds": args.seeds, "rows": args.rows, "grid": args.grid,
                                 "tasks": tasks})


if __name__ == "__main__":
    main()
