"""A study's cells summed up over seeds: a mean and spread per metric, a markdown table and one figure."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..staging import staged_file

METRICS = ("rows", "remote_clique", "average_pairwise_similarity", "similarity_to_test", "label_accuracy",
           "removed", "accuracy", "macro_f1")
COLUMNS = ("remote_clique", "average_pairwise_similarity", "similarity_to_test", "label_accuracy", "removed",
           "accuracy", "macro_f1")
BASELINE_LINES = ("--", ":", "-.", (0, (5, 1)), (0, (1, 3)), (0, (3, 1, 1, 1, 1, 1)))
LEGEND_BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.1), "ncol": 2}  # off the points, under the panel
HEADERS = ("diversity (remote clique)", "APS", "similarity to test", "label acc.", "OOSF removed",
           "downstream acc.", "macro-F1")


def summarise(cells: Sequence[dict], keys: Sequence[str], metrics: Sequence[str] = METRICS) -> list[dict]:
    """One row per distinct value of `keys` (first-seen order): each metric's mean and standard deviation over the
    rows that have it, and how many rows there were (`seeds`)."""
    groups: dict[tuple, list[dict]] = {}
    for cell in cells:
        groups.setdefault(tuple(cell[key] for key in keys), []).append(cell)
    summary = []
    for group_key, group in groups.items():
        row = dict(zip(keys, group_key), seeds=len(group))
        for metric in metrics:
            values = [cell[metric] for cell in group if cell.get(metric) is not None]
            if values:
                row[metric], row[f"{metric}_std"] = float(np.mean(values)), float(np.std(values))
        summary.append(row)
    return summary


def _figure(row: dict, metric: str) -> str:
    if metric not in row:
        return "n/a"
    if metric in ("rows", "removed"):
        return f"{row[metric]:.0f}" + (f" ± {row[metric + '_std']:.0f}" if row["seeds"] > 1 else "")
    return f"{row[metric]:.3f}" + (f" ± {row[metric + '_std']:.3f}" if row["seeds"] > 1 else "")


def markdown_table(summary: Sequence[dict], baselines: Sequence[dict]) -> str:
    """The cells (mean ± standard deviation over seeds), then the baselines' downstream figures."""
    lines = ["| diversification | intervention | rows | " + " | ".join(HEADERS) + " |",
             "|" + "---|" * (3 + len(HEADERS))]
    for row in summary:
        figures = [_figure(row, metric) for metric in ("rows", *COLUMNS)]
        lines.append(f"| {row['diversification']} | {row['intervention']} | " + " | ".join(figures) + " |")
    lines += ["", "| baseline (same test rows) | rows | downstream acc. | macro-F1 |", "|---|---|---|---|"]
    for row in baselines:
        lines.append(f"| {row['baseline']} | {_figure(row, 'rows')} | {_figure(row, 'accuracy')} | "
                     f"{_figure(row, 'macro_f1')} |")
    return "\n".join(lines) + "\n"


def plot_study(path: str, summary: Sequence[dict], baselines: Sequence[dict], title: str = "") -> None:
    """Write the figure: diversity against label accuracy per cell (marker size: downstream accuracy), and each
    cell's downstream accuracy beside the baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [row for row in summary if "accuracy" in row]
    interventions = list(dict.fromkeys(row["intervention"] for row in shown))
    diversifications = list(dict.fromkeys(row["diversification"] for row in shown))
    colours = {name: f"C{i % 10}" for i, name in enumerate(interventions)}
    markers = {name: "osD^vP*X"[i % 8] for i, name in enumerate(diversifications)}
    figure, (left, right) = plt.subplots(1, 2, figsize=(15, 7.5))
    for row in shown:
        left.scatter(row["remote_clique"], row["label_accuracy"], s=400 * row["accuracy"] ** 2, alpha=0.7,
                     c=colours[row["intervention"]], marker=markers[row["diversification"]], edgecolors="black")
    for name in interventions:
        left.scatter([], [], c=colours[name], label=f"intervention: {name}")
    for name in diversifications:
        left.scatter([], [], c="white", edgecolors="black", marker=markers[name], label=f"diversification: {name}")
    left.margins(0.1)
    left.set_xlabel("diversity (remote clique; higher is more diverse)")
    left.set_ylabel("label accuracy (agreement with the oracle)")
    left.set_title("each cell, mean over seeds (marker size: downstream accuracy)", fontsize=10)
    left.legend(fontsize=8, **LEGEND_BELOW)
    ordered = sorted(shown, key=lambda row: row["accuracy"])
    positions = np.arange(len(ordered))
    right.errorbar([row["accuracy"] for row in ordered], positions, xerr=[row["accuracy_std"] for row in ordered],
                   fmt="none", ecolor="grey")
    right.scatter([row["accuracy"] for row in ordered], positions, c=[colours[row["intervention"]] for row in ordered],
                  marker="o", zorder=3)
    right.margins(y=0.05)
    right.set_yticks(positions, [f"{row['diversification']} / {row['intervention']}" for row in ordered], fontsize=8)
    for i, row in enumerate(baselines):
        right.axvline(row["accuracy"], linestyle=BASELINE_LINES[i % len(BASELINE_LINES)], color="black", alpha=0.6,
                      label=row["baseline"])
    right.set_xlabel("downstream accuracy on the real test rows (mean ± sd over seeds)")
    right.legend(fontsize=8, **LEGEND_BELOW)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    with staged_file(path) as partial:
        figure.savefig(partial, dpi=100, bbox_inches="tight", format=os.path.splitext(path)[1].lstrip(".") or "png")
    plt.close(figure)
