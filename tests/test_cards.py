"""The dataset card of an output folder, built from the folder's files alone (no model runs here)."""

import json

import datasets
import pytest
import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from hf_llmgen.cards import generator_licence, run_record, write_card
from hf_llmgen.generation.runner import GenerationStats
from hf_llmgen.generation.settings import GenerationSettings
from hf_llmgen.task import load_task

NAMES = ["negative", "positive"]


def _save_rows(folder, split, labels):
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=NAMES)})
    rows = {"text": [f"text number {i}" for i in range(len(labels))], "label": labels}
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(folder / split))


@pytest.fixture
def generated(tmp_path):
    """A folder as `generate` writes it: 3 rows kept, 1 removed, its summary with the run record."""
    settings = GenerationSettings(task="sst2", seed=2, temperature=0.9, logit_suppression=0.0, backend="openai",
                                  base_url="http://user:s3cret@127.0.0.1:8000/v1")
    stats = GenerationStats(requests=5, rows=3, candidates=4, example_prompt="Write one short movie review ...")
    stats.checked.update({"negative": 2, "positive": 2})
    stats.passed.update({"negative": 1, "positive": 2})
    stats.dropped.update({"off_label": 1})
    summary = {**stats.to_dict(), "label_check_warnings": [], "removed_rows": 1,
               "run": run_record(load_task("sst2"), settings, "sst2", "SmolLM2-135M-Instruct.Q4_1.gguf:abc")}
    _save_rows(tmp_path, "train", [0, 1, 1])
    _save_rows(tmp_path, "removed", [0])
    (tmp_path / "generation_summary.json").write_text(json.dumps(summary))
    return tmp_path


def _card(folder) -> tuple[dict, str]:
    write_card(str(folder))
    text = (folder / "README.md").read_text()
    return yaml.safe_load(text.split("---")[1]), text


def test_card_of_a_generated_folder_has_hub_metadata_settings_and_counts(generated):
    metadata, text = _card(generated)
    DatasetCardData(**metadata)  # the Hub's card fields parse
    assert metadata["task_categories"] == ["text-classification"] and metadata["size_categories"] == ["n<1K"]
    assert {"synthetic", "hf_llmgen", "sst2"} <= set(metadata["tags"])
    assert "`train` has 3 rows; `removed` holds the 1 rows" in text
    assert "| negative | 1 |" in text and "| 50% |" in text  # rows per label beside the check's pass rate
    assert "no logit suppression" in text and "Write one short movie review ..." in text
    assert "| `seed` | `2` |" in text and "(the generator's licence: `apache-2.0`)" in text
    assert "'seed': 2" in text and "'temperature': 0.9" in text  # the reproducing call
    assert "None: no person has read these labels" in text and "Not measured yet" in text


def test_card_shows_no_password_of_a_url(generated):
    _, text = _card(generated)
    assert "s3cret" not in text and "http://127.0.0.1:8000/v1" in text


def test_rebuilt_card_tells_interventions_and_quality_and_keeps_the_licence(generated):
    _card(generated)
    card = DatasetCard.load(generated / "README.md")
    card.data.license = "cc-by-4.0"  # chosen at push time
    card.save(generated / "README.md")
    (generated / "relabel_summary.json").write_text(json.dumps(
        {"mode": "proxy", "rows": 3, "human_labels": 2, "changed": {"proxy": 1}}))
    (generated / "measure.json").write_text(json.dumps({"remote_clique": 0.61, "per_class": {"a": 1}}))
    metadata, text = _card(generated)
    assert metadata["license"] == "cc-by-4.0"
    assert "2 labels given by a person; of 3 rows, changed: 1 by the proxy" in text
    assert "| remote_clique | 0.61 |" in text and "per_class" not in text


def test_card_of_a_folder_without_a_generation_summary(tmp_path):
    _save_rows(tmp_path, "train", [1, 1])
    metadata, text = _card(tmp_path)
    DatasetCardData(**metadata)
    assert "holds no generation summary" in text and "| positive | 2 |" in text and "## Reproduce" not in text


def test_generator_licence_is_named_only_for_known_models():
    assert generator_licence("SmolLM2-135M-Instruct.Q4_1.gguf:04da") == "apache-2.0"
    assert generator_licence("gpt-4o-mini") is None
