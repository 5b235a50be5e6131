"""`hf-llmgen push` against a stand-in for the Hub on loopback (tests/hub_stand_in.py), not the Hub itself:
a dataset generated with the embedded model arrives whole, private, without the token, and loads back."""

import json
import os
import subprocess
import sys

import datasets
import pytest
import yaml
from huggingface_hub import DatasetCardData

from hub_stand_in import HubStandIn

pytestmark = pytest.mark.slow

CANARY = "hf_canaryTOKEN0123456789abcdef"


@pytest.fixture
def hub():
    server = HubStandIn(CANARY).start()
    yield server
    server.stop()


def hub_env(hub, tmp_path) -> dict:
    return {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf_home")}


def run_python(hub, tmp_path, code: str):
    done = subprocess.run([sys.executable, "-c", code], env=hub_env(hub, tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def run(hub, tmp_path, *args, token=CANARY):
    env = hub_env(hub, tmp_path)
    env.pop("HF_TOKEN", None)
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "hf_llmgen.cli", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gen")
    subprocess.run([sys.executable, "-m", "hf_llmgen.cli", "generate", "sst2", "--num-examples", "4",
                    "--max-new-tokens", "40", "--output", str(folder / "out"), "--cache-dir", str(folder / "cache")],
                   check=True, cwd=folder)
    return folder / "out"


def test_push_sends_rows_card_and_summary_privately_without_the_token(hub, tmp_path, generated):
    done = run(hub, tmp_path, "push", str(generated), "--repo", "tester/sst2-synth", "--license", "apache-2.0",
               "--source-dataset", "stanfordnlp/sst2")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["private"] is True and hub.repos[("dataset", "tester/sst2-synth")].private
    files = hub.files("dataset", "tester/sst2-synth")
    assert "data/train-00000-of-00001.parquet" in files
    assert {"README.md", "generation_summary.json"} <= set(files)
    card = files["README.md"].decode()
    metadata = yaml.safe_load(card.split("---")[1])
    DatasetCardData(**metadata)  # the Hub's card fields parse
    assert metadata["license"] == "apache-2.0" and "text-classification" in metadata["task_categories"]
    assert metadata["source_datasets"] == ["stanfordnlp/sst2"]
    assert metadata["configs"][0]["data_files"][0]["split"] == "train"
    assert "## What happened" in card  # the generated card, not the one datasets writes
    for content in files.values():
        assert CANARY.encode() not in content
    assert CANARY not in done.stdout + done.stderr
    assert all(auth in (None, f"Bearer {CANARY}") for _, _, auth in hub.requests)

    load = ("import datasets, json, sys; ds = datasets.load_dataset('tester/sst2-synth', split='train', "
            f"token='{CANARY}'); json.dump(ds.to_dict(), sys.stdout)")
    back = run_python(hub, tmp_path, load)
    local = datasets.load_from_disk(str(generated / "train"))
    assert back == local.to_dict()  # column for column

    commits, uploads = len(hub.commits), len(hub.lfs_uploads)
    again = run(hub, tmp_path, "push", str(generated), "--repo", "tester/sst2-synth", "--license", "apache-2.0",
                "--source-dataset", "stanfordnlp/sst2")
    assert again.returncode == 0, again.stderr
    assert len(hub.lfs_uploads) == uploads and len(hub.commits) == commits  # nothing sent twice


def test_a_push_that_fails_part_way_says_so_and_a_second_push_completes_it(hub, tmp_path, generated):
    hub.fail_commits_with = "generation_summary.json"
    failed = run(hub, tmp_path, "push", str(generated), "--repo", "tester/part")
    assert failed.returncode == 1 and "rows of tester/part arrived but its card" in failed.stderr
    assert "generation_summary.json" not in hub.files("dataset", "tester/part")
    uploads, commits = len(hub.lfs_uploads), len(hub.commits)
    hub.fail_commits_with = None
    done = run(hub, tmp_path, "push", str(generated), "--repo", "tester/part")
    assert done.returncode == 0, done.stderr
    assert "generation_summary.json" in hub.files("dataset", "tester/part")
    assert len(hub.lfs_uploads) == uploads  # the shards that arrived were not uploaded again
    sent = [path for commit in hub.commits[commits:] for path in commit.sent]
    assert "generation_summary.json" in sent and not any(path.endswith(".parquet") for path in sent)


def test_no_token_and_no_network_fail_before_any_upload(hub, tmp_path, generated):
    no_token = run(hub, tmp_path, "push", str(generated), "--repo", "tester/x", token=None)
    assert no_token.returncode == 1 and "HF_TOKEN holds no token" in no_token.stderr
    refused = run(hub, tmp_path, "push", str(generated), "--repo", "tester/x", token="hf_wrong")
    assert refused.returncode == 1 and "refused the token" in refused.stderr
    assert not hub.repos and not hub.lfs_uploads
    hub.stop()
    offline = run(hub, tmp_path, "push", str(generated), "--repo", "tester/x")
    assert offline.returncode == 1 and "cannot reach the Hub" in offline.stderr


def test_a_folder_without_a_card_is_pushed_with_the_hub_metadata(hub, tmp_path):
    rows = datasets.load_dataset("json", data_files=os.path.join(os.path.dirname(__file__), "fixtures",
                                                                 "real_texts.jsonl"), split="train")
    rows.save_to_disk(str(tmp_path / "relabelled" / "train"))  # a split saved by other code: no card, no summary
    done = run(hub, tmp_path, "push", str(tmp_path / "relabelled"), "--repo", "tester/plain", "--license", "mit")
    assert done.returncode == 0, done.stderr
    card = hub.files("dataset", "tester/plain")["README.md"].decode()
    metadata = yaml.safe_load(card.split("---")[1])
    assert metadata["license"] == "mit" and metadata["dataset_info"]["splits"][0]["num_examples"] == len(rows)
    assert card.count("---") == 2  # one metadata block, nothing else


def test_a_trained_model_is_pushed_with_its_card_linking_the_dataset_and_loads_back(hub, tmp_path, generated):
    model = tmp_path / "model"
    subprocess.run([sys.executable, "-m", "hf_llmgen.cli", "train", str(generated), "--eval", str(generated),
                    "--output", str(model), "--max-steps", "1", "--dataset-repo", "tester/sst2-synth"],
                   check=True, capture_output=True, cwd=tmp_path)
    (model / "checkpoint-1").mkdir()
    (model / "checkpoint-1" / "optimizer.pt").write_bytes(b"not pushed")
    done = run(hub, tmp_path, "push", str(model), "--repo", "tester/sst2-classifier", "--license", "apache-2.0")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["private"] is True and hub.repos[("model", "tester/sst2-classifier")].private
    files = hub.files("model", "tester/sst2-classifier")
    assert {"README.md", "config.json", "model.safetensors", "tokenizer.json", "eval_results.json"} <= set(files)
    assert not [path for path in files if path.startswith("checkpoint-")]
    metadata = yaml.safe_load(files["README.md"].decode().split("---")[1])
    assert metadata["datasets"] == ["tester/sst2-synth"] and metadata["license"] == "apache-2.0"
    assert metadata["hf_llmgen_data_quality"]["rows"] == 4
    for content in files.values():
        assert CANARY.encode() not in content

    load = ("import json, sys; from transformers import pipeline; "
            f"p = pipeline('text-classification', model='tester/sst2-classifier', token='{CANARY}'); "
            "json.dump(sorted(p.model.config.id2label.values()), sys.stdout)")
    assert run_python(hub, tmp_path, load) == ["negative", "positive"]
