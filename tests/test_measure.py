"""`measure` and `hf-llmgen measure` on real texts, with the real packaged embedding model."""

import json
import os
import subprocess
import sys

import datasets
import pytest

from hf_llmgen.cli import main
from hf_llmgen.metrics import EmbeddingCache, class_similarity, measure, remote_clique, similarity

pytestmark = pytest.mark.slow

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "real_texts.jsonl")


@pytest.fixture(scope="module")
def real():
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    bank = [r for r in rows if r["source"].startswith("banking77")]
    sms = [r for r in rows if r["source"].startswith("sms_spam")]
    names = sorted({r["label"] for r in bank})
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    dataset = datasets.Dataset.from_list([{"text": r["text"], "label": r["label"]} for r in bank], features=features)
    reference = datasets.Dataset.from_list([{"text": r["text"]} for r in sms])
    return dataset, reference


def test_measure_agrees_with_the_metric_functions(real, tmp_path):
    dataset, reference = real
    cache = EmbeddingCache(path=str(tmp_path / "e.sqlite"))
    result = measure(dataset, reference, embeddings=cache)
    vectors, ref_vectors = cache.embed(dataset["text"]), cache.embed(reference["text"])
    assert result["rows"] == 48
    assert result["remote_clique_cosine"] == pytest.approx(remote_clique(vectors))
    assert result["similarity_cosine"] == pytest.approx(similarity(vectors, ref_vectors))
    labels = [dataset.features["label"].int2str(i) for i in dataset["label"]]
    assert result["intra_class_similarity"] == pytest.approx(class_similarity(vectors, labels).intra_mean)
    assert result["label_distribution"]["counts"] == {name: 8 for name in dataset.features["label"].names}
    assert result["vocabulary_size"] > 50 and 0 < result["distinct_2"] <= 1
    assert sum(check["checked"] for check in result["label_check"].values()) == 48
    assert cache.computed == 48 + 24 + 6  # each text embedded once, though measured and re-read above, and
    # one prototype text per label for the label check
    cache.close()


def test_a_missing_column_is_named(real, tmp_path):
    dataset, _ = real
    with pytest.raises(ValueError, match="text_column: the dataset has no column 'sentence'"):
        measure(dataset, text_column="sentence", embeddings=EmbeddingCache(path=str(tmp_path / "e.sqlite")))


def test_measure_command_prints_and_writes_json(real, tmp_path):
    dataset, reference = real
    dataset.save_to_disk(str(tmp_path / "data"))
    reference.to_json(str(tmp_path / "reference.jsonl"))
    out = tmp_path / "quality.json"
    cmd = [sys.executable, "-m", "hf_llmgen.cli", "measure", str(tmp_path / "data"),
           "--reference", str(tmp_path / "reference.jsonl"), "--output", str(out), "--metric", "euclidean"]
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "cache")}
    printed = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result = json.loads(out.read_text())
    assert "remote_clique_euclidean" in printed and "similarity_euclidean" in result
    assert 0 < result["similarity_euclidean"] <= 1


def test_measure_card_writes_its_files_into_the_folder_and_rebuilds_the_card(real, tmp_path, capfd):
    dataset, reference = real
    folder = tmp_path / "generated"
    dataset.save_to_disk(str(folder / "train"))
    reference.to_json(str(tmp_path / "reference.jsonl"))
    assert main(["measure", str(folder), "--reference", str(tmp_path / "reference.jsonl"), "--card"]) == 0
    result = json.loads((folder / "measure.json").read_text())
    card = (folder / "README.md").read_text()
    assert (folder / "measure.png").stat().st_size > 0
    assert f"| remote_clique_cosine | {result['remote_clique_cosine']:.4g} |" in card and "](measure.png)" in card
    assert main(["measure", str(tmp_path / "reference.jsonl"), "--card"]) == 2
    assert "--card: " in capfd.readouterr().err and not (tmp_path / "measure.json").exists()
