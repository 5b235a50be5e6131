"""The study's pure parts: nearest-neighbour similarity, simulated scope marks, the human rows, the grid, the
summary, table and cache arithmetic, the real-data checks and the few-shot choice prompt."""

import json
import os

import datasets
import numpy as np
import pytest

from hf_llmgen.generation.prompts import few_shot_choice_messages
from hf_llmgen.interventions.selection import choose_rows
from hf_llmgen.metrics.pairwise import nearest_cosine_similarity
from hf_llmgen.study import run_study
from hf_llmgen.study.grid import GRIDS, grid_cells
from hf_llmgen.study.interventions import INTERVENTIONS, human_rows, in_scope_marks, intervene
from hf_llmgen.study.reference import load_real_data, scores
from hf_llmgen.study.report import markdown_table, summarise
from hf_llmgen.study.run import _read_record, cache_savings, grid_order
from hf_llmgen.task import Example, load_task


def test_nearest_cosine_similarity_equals_the_brute_force_maximum_in_any_block_size():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(37, 5)), rng.normal(size=(11, 5))
    units = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    expected = (units(a) @ units(b).T).max(axis=1)
    for block in (11, 50, 10_000):
        assert np.allclose(nearest_cosine_similarity(a, b, block_elements=block), expected)


def test_rows_far_from_all_real_data_are_marked_out_of_scope():
    real = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.95, 0.0, 0.05]])
    held_out = np.array([[1.0, 0.05, 0.0], [0.9, 0.0, 0.1], [0.97, 0.02, 0.0], [0.92, 0.05, 0.05]])
    generated = np.array([[0.99, 0.01, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert in_scope_marks(generated, real, held_out).tolist() == [True, False, False]


def test_the_human_rows_are_k_distinct_rows_chosen_as_annotate_chooses_them():
    vectors = np.random.default_rng(0).normal(size=(50, 4))
    sample = human_rows(vectors, 10, seed=3)
    assert len(set(sample)) == 10 and sample == sorted(sample) and sample == human_rows(vectors, 10, seed=3)
    assert sample == sorted(choose_rows(vectors, 10, "diverse", seed=3))
    assert human_rows(vectors, 10, seed=3, strategy="random") == sorted(choose_rows(vectors, 10, "random", seed=3))
    assert human_rows(vectors[:5], 180, seed=0) == [0, 1, 2, 3, 4] and human_rows(vectors, 0, seed=0) == []


def test_a_rare_label_gets_human_labels_from_the_diverse_choice():
    common, rare = np.zeros((390, 2)), np.ones((10, 2))  # 10 rows of a rare label, far from the rest
    vectors = np.vstack([common, rare]) + np.random.default_rng(1).normal(scale=0.05, size=(400, 2))
    assert sum(i >= 390 for i in human_rows(vectors, 20, seed=0)) >= 2


def test_grids_name_known_cells_and_a_wrong_name_is_an_error_naming_the_choices():
    assert grid_cells("full")[0] == ("none", "logit suppression", "high temperature", "both", "attributed prompts")
    assert grid_cells("default")[1] == tuple(INTERVENTIONS) == GRIDS["full"][1]
    assert grid_cells((["none"], ["LR oracle"])) == (("none",), ("LR oracle",))
    with pytest.raises(ValueError, match="grid: 'huge'"):
        grid_cells("huge")
    with pytest.raises(ValueError, match=r"diversifications \['hot'\] unknown; choose from"):
        grid_cells((["hot"], ["none"]))
    with pytest.raises(ValueError, match=r"interventions \(none\) unknown"):
        grid_cells((["none"], []))


def test_cells_a_rerun_added_are_sorted_into_the_grid_order_by_seed():
    cells = [{"seed": s, "diversification": d, "intervention": i} for s, d, i in
             [(0, "none", "none"), (1, "none", "none"), (0, "none", "LR oracle"), (0, "both", "none"),
              (0, "attributed prompts", "none"), (0, "none", "OOSF k=180")]]
    cells.sort(key=grid_order(["none", "both"], ["none", "OOSF k=180", "LR oracle"]))
    assert [(c["seed"], c["diversification"], c["intervention"]) for c in cells] == [
        (0, "none", "none"), (0, "none", "OOSF k=180"), (0, "none", "LR oracle"), (0, "both", "none"),
        (0, "attributed prompts", "none"), (1, "none", "none")]


def test_summary_gives_mean_and_spread_over_seeds_of_the_metrics_each_cell_has():
    cells = [{"diversification": "none", "intervention": "none", "seed": s, "accuracy": a, "rows": 10}
             for s, a in enumerate((0.5, 0.7))]
    cells.append({"diversification": "none", "intervention": "LR oracle", "seed": 0, "rows": 8})
    summary = summarise(cells, ("diversification", "intervention"))
    assert summary[0]["seeds"] == 2 and summary[0]["accuracy"] == pytest.approx(0.6)
    assert summary[0]["accuracy_std"] == pytest.approx(0.1) and summary[0]["rows"] == 10
    assert "accuracy" not in summary[1] and summary[1]["rows"] == 8
    table = markdown_table(summary, [{"baseline": "zero-shot", "seeds": 1, "rows": 0, "rows_std": 0,
                                      "accuracy": 0.61, "accuracy_std": 0, "macro_f1": 0.6, "macro_f1_std": 0}])
    assert "| none | none | 10 ± 0 |" in table and "0.600 ± 0.100" in table
    assert "| none | LR oracle | 8 | n/a |" in table and "| zero-shot | 0 | 0.610 | 0.600 |" in table


def test_cache_savings_prices_the_cached_requests_at_the_study_own_pace():
    generations = [{"requests": 10, "cached_requests": 0, "seconds": 20.0},
                   {"requests": 10, "cached_requests": 6, "seconds": 9.0}]
    assert cache_savings(generations) == {"requests": 20, "cached_requests": 6, "generation_seconds": 29.0,
                                          "seconds_saved_estimate": round(6 * 29.0 / 14, 1)}
    assert cache_savings([{"requests": 4, "cached_requests": 4, "seconds": 1.0}])["seconds_saved_estimate"] == 0.0


def test_scores_count_an_abstention_as_an_error_without_a_class_of_its_own():
    result = scores(["a", "", "b", "b"], ["a", "a", "b", "b"])
    assert result["accuracy"] == 0.75
    assert result["macro_f1"] == pytest.approx(np.mean([2 / 3, 1.0]))


def _write(folder, split, rows):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{split}.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


def test_real_data_is_found_by_task_and_a_missing_split_or_foreign_label_is_named(tmp_path):
    task = load_task("sst2")
    rows = [{"text": f"text {i}", "label": "positive" if i % 2 else "negative"} for i in range(10)]
    _write(tmp_path / "sst2", "train_subset", rows)
    with pytest.raises(ValueError, match=r"data: no real test split for task 'sst2'.*put test.jsonl there"):
        load_real_data(str(tmp_path), task)
    _write(tmp_path / "sst2", "test", rows[:4])
    real = load_real_data(str(tmp_path), task, test_rows=3)
    assert len(real.train) == 10 and len(real.test) == 3 and sorted(r["text"] for r in real.train) == sorted(
        r["text"] for r in rows)
    _write(tmp_path / "sst2", "test", [{"text": "x", "label": "neutral"}])
    with pytest.raises(ValueError, match=r"labels \['neutral'\] that task 'sst2' does not have"):
        load_real_data(str(tmp_path), task)


def test_a_study_without_real_data_stops_before_any_generation(tmp_path):
    with pytest.raises(ValueError, match="data: no real train split for task 'trec'"):
        run_study("trec", str(tmp_path), output=str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")
    with pytest.raises(ValueError, match="rows: must be a whole number"):
        run_study("trec", str(tmp_path), output=str(tmp_path / "out"), rows=0)
    with pytest.raises(ValueError, match=r"generation: \['temperature', 'tempo'\] cannot be given"):
        run_study("trec", str(tmp_path), output=str(tmp_path / "out"), generation={"temperature": 1, "tempo": 2})
    with pytest.raises(ValueError, match="backend"):
        run_study("trec", str(tmp_path), output=str(tmp_path / "out"), generation={"backend": "gpt"})
    with pytest.raises(ValueError, match="grid: the 'attributed prompts' cells cannot run on 'subj': prompt: "
                                         "'attributes' needs attributes in the task spec"):
        run_study("subj", str(tmp_path), output=str(tmp_path / "out"))
    with pytest.raises(ValueError, match=r"strategy: must be one of \('diverse', 'random'\), got 'first'"):
        run_study("trec", str(tmp_path), output=str(tmp_path / "out"), strategy="first")
    assert not os.path.exists(tmp_path / "out")


def test_a_study_resumes_only_its_own_record(tmp_path):
    path = tmp_path / "study.json"
    path.write_text(json.dumps({"task": "sst2", "rows": 400, "strategy": "random", "cells": []}))  # no classifier
    assert _read_record(str(path), "sst2", 400, "random", "embedding")["cells"] == []
    with pytest.raises(ValueError, match="holds a study of 'sst2' with 400 rows, the 'random' strategy"):
        _read_record(str(path), "sst2", 400, "diverse", "embedding")
    with pytest.raises(ValueError, match="and the 'embedding' classifier; give another --output"):
        _read_record(str(path), "sst2", 400, "random", "finetune")


def test_few_shot_choice_shows_each_example_answered_with_its_label_number():
    messages = few_shot_choice_messages("new text", ["negative", "positive"], {},
                                        [Example("great", "positive"), Example("awful", "negative")])
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert [messages[1]["content"], messages[3]["content"]] == ["2", "1"]
    assert "Text: great" in messages[0]["content"] and "Text: new text" in messages[-1]["content"]


def test_oracle_replacement_takes_the_oracle_label_and_a_filter_without_out_of_scope_marks_removes_nothing():
    data = datasets.Dataset.from_dict({"text": ["a fine film", "a dull film", "an odd film"], "label": [1, 1, 0]},
                                      features=datasets.Features({"text": datasets.Value("string"),
                                                                  "label": datasets.ClassLabel(names=["neg", "pos"])}))
    rows, info = intervene(INTERVENTIONS["LR oracle"], data, [], ["pos", "neg", "neg"], np.ones(3, bool))
    assert rows["label"] == [1, 0, 0] and info == {"human_rows": 0, "relabelled": 1, "removed": 0}
    rows, info = intervene(INTERVENTIONS["OOSF k=180"], data, [0, 1, 2], ["pos", "neg", "neg"], np.ones(3, bool))
    assert len(rows) == 3 and info["removed"] == 0 and "nothing removed" in info["note"]
