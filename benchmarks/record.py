"""What every benchmark records: the machine, peak memory, and the JSON result file."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess

from hf_llmgen.staging import write_json


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(path: str, result: dict) -> None:
    """Write `result` to `path` as indented JSON, whole: an interrupted write leaves the previous file."""
    write_json(path, result)


def mean_by(results: list[dict], keys: tuple[str, ...], values: tuple[str, ...]) -> list[dict]:
    """Mean and sample standard deviation (None under 2 runs) of each of `values` over the rows sharing `keys`
    that have it; `failed` counts those without (a run that ended in an error)."""
    groups: dict[tuple, list[dict]] = {}
    for row in results:
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    summary = []
    for group, rows in groups.items():
        done = [row for row in rows if all(value in row for value in values)]
        means = {f"mean_{value}": statistics.mean(row[value] for row in done) if done else None for value in values}
        spreads = {f"sd_{value}": statistics.stdev(row[value] for row in done) if len(done) > 1 else None
                   for value in values}
        summary.append({**dict(zip(keys, group)), "runs": len(done), "failed": len(rows) - len(done), **means,
                        **spreads})
    return summary


def markdown_table(results: list[dict], columns: tuple[str, ...]) -> str:
    """The results as a Markdown table of `columns`, floats to 3 decimals."""
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for row in results:
        lines.append("| " + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns)
                     + " |")
    return "\n".join(lines)


def commit() -> str:
    """The repository's current commit (with '+changes' when the work tree differs, results aside), for each
    measured cell."""
    here = os.path.dirname(os.path.abspath(__file__))
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", ":(top)", ":(top,exclude)benchmarks/results"],
                           cwd=here, capture_output=True, text=True).stdout.strip()
    return rev + ("+changes" if dirty else "")
