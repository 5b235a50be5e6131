"""Attributed generation (AttrPrompt) with the real embedded model (SmolLM2-135M-Instruct GGUF)."""

import subprocess
import sys

import datasets
import pytest
import yaml

from hf_llmgen.task import load_task

pytestmark = pytest.mark.slow


def test_attributed_rows_carry_their_configuration(tmp_path):
    ds = datasets.load_dataset("hf_llmgen", "ag_news", split="train", cache_dir=str(tmp_path), num_examples=8,
                               prompt="attributes", logit_suppression=1.0, examples_per_prompt=1, max_new_tokens=40)
    task = load_task("ag_news")
    assert len(ds) == 8 and set(ds["prompt_style"]) == {"attributes"}
    names = ds.features["label"].names
    for row in ds:
        label = names[row["prompted_label"]]
        for attribute in task.attributes:
            assert row[f"attribute_{attribute.name}"] in task.attribute_values(attribute, label)[0]
    # balanced within each label: the first round asks for each label twice, from two of its ten subtopics
    # (later rounds, which only some outputs need, continue the balance over the requests, not the rows)
    for label_id in range(len(names)):
        first_round = {row["request_key"]: row["attribute_subtopic"] for row in ds
                       if row["prompted_label"] == label_id and row["round"] == 0}
        assert len(set(first_round.values())) == len(first_round)


def test_attributes_prompt_needs_attributes_in_the_task(tmp_path):
    with pytest.raises(ValueError, match="prompt: 'attributes' needs attributes in the task spec"):
        datasets.load_dataset_builder("hf_llmgen", "subj", cache_dir=str(tmp_path), prompt="attributes")


def test_suggested_attributes_make_a_valid_task_that_generates_or_the_command_says_none_were_usable(tmp_path):
    # what the 135M model suggests depends on the CPU's numerics: either outcome is a correct answer, an
    # empty or invalid draft is not
    path = tmp_path / "sst2_attributes.yaml"
    done = subprocess.run([sys.executable, "-m", "hf_llmgen.cli", "attributes", "suggest", "sst2", "--output",
                           str(path), "--dimensions", "2", "--values", "4"], capture_output=True, text=True)
    if done.returncode == 1:
        assert "the model suggested no usable attribute for 'sst2'" in done.stderr and "Try a larger model" in done.stderr
        assert not path.exists()
        return
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert text.startswith("# Attributes drafted by `hf-llmgen attributes suggest` with SmolLM2")
    task = load_task(str(path))
    assert task.attributes and task.label_names == ["negative", "positive"]
    assert len(yaml.safe_load(text)["examples"]) == len(load_task("sst2").examples)
    ds = datasets.load_dataset("hf_llmgen", task=str(path), split="train", cache_dir=str(tmp_path / "cache"),
                               num_examples=4, prompt="attributes", max_new_tokens=40)
    assert len(ds) == 4
    assert all(f"attribute_{attribute.name}" in ds.column_names for attribute in task.attributes)


def test_the_card_of_an_attributed_run_lists_the_attributes(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "hf_llmgen.cli", "generate", "emotion", "--prompt", "attributes",
                           "--num-examples", "6", "--label-check", "none", "--max-new-tokens", "40",
                           "--output", str(out), "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text()
    assert "## Attributes" in card and "| situation | work, school, family," in card
    assert "| `prompt` | `attributes` |" in card
