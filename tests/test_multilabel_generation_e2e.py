"""Multi-label generation with the real embedded model, and the later stages on its output."""

from collections import Counter

import datasets
import pytest

from hf_llmgen.cli import main
from hf_llmgen.metrics.report import rows_per_label
from hf_llmgen.metrics import measure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return datasets.load_dataset("hf_llmgen", "goemotions", split="train", cache_dir=str(cache), num_examples=10,
                                 prompt="simple", examples_per_prompt=1, max_new_tokens=40)


def test_rows_carry_label_sets_in_the_planned_shares(generated):
    names = generated.features["labels"].feature.names
    assert len(names) == 28 and "label" not in generated.column_names
    sizes = Counter(len(labels) for labels in generated["labels"])
    assert sizes == {1: 8, 2: 2}  # shares 0.8 / 0.2 of 10 rows
    assert list(generated["labels"]) == list(generated["prompted_labels"])
    neutral = names.index("neutral")
    assert all(neutral not in labels for labels in generated["labels"] if len(labels) > 1)
    used = Counter(label for labels in generated["labels"] for label in labels)
    assert max(used.values()) == 1  # 12 label uses over 28 labels: none twice
    per_label = rows_per_label(generated)  # what the card and generation_summary.json report
    assert sum(per_label.values()) == 12 and all(per_label[names[i]] == 1 for i in used)


def test_measure_counts_each_label_of_a_row(generated, tmp_path, capsys):
    result = measure(generated, label_column="labels")
    counts = result["label_distribution"]["counts"]
    assert sum(counts.values()) == sum(len(labels) for labels in generated["labels"]) == 12
    path = tmp_path / "ml"
    generated.save_to_disk(str(path))
    assert main(["measure", str(path), "--label-column", "labels"]) == 0
    assert main(["annotate", str(path), "--label-column", "labels", "--export", str(tmp_path / "x.csv")]) == 2
    assert "holds several labels per row" in capsys.readouterr().err
