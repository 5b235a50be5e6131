"""The human loop on the command line, on real Banking77 texts with known label noise and real SMS texts out
of scope: annotate --export, a person's answers filled in, annotate --import, relabel, filter."""

import csv
import json
import os
import random

import datasets
import pytest

from hf_llmgen.cli import load_any, main

pytestmark = pytest.mark.slow

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _rows(name):
    return [json.loads(line) for line in open(os.path.join(FIXTURES, name), encoding="utf-8")]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved dataset: banking rows, 40 % mislabelled, plus SMS rows given banking labels; and the truth."""
    banking, sms = _rows("banking77_train_sample.jsonl"), _rows("sms_spam_train_sample.jsonl")
    names = sorted({r["label"] for r in banking})
    rng = random.Random(0)
    truth = [r["label"] for r in banking] + [None] * len(sms)
    labels = [rng.choice([n for n in names if n != t]) if t and rng.random() < 0.4 else t or rng.choice(names)
              for t in truth]
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    data = datasets.Dataset.from_dict({"text": [r["text"] for r in banking + sms], "label": labels}, features=features)
    folder = tmp_path_factory.mktemp("loop") / "generated"
    data.save_to_disk(str(folder / "train"))
    return str(folder), truth


def _accuracy(labels, truth):
    pairs = [(a, b) for a, b in zip(labels, truth) if b is not None]
    return sum(a == b for a, b in pairs) / len(pairs)


def test_export_fill_import_relabel_filter(saved, tmp_path, capsys):
    folder, truth = saved
    export = str(tmp_path / "sample.csv")
    assert main(["annotate", folder, "--n", "120", "--export", export]) == 0
    with open(export, encoding="utf-8", newline="") as f:
        sample = list(csv.DictReader(f))
    assert len(sample) == 120 and list(sample[0]) == ["row", "text", "label", "human_label", "out_of_scope"]
    for record in sample:  # the person: the true label, or out of scope for the SMS texts
        answer = truth[int(record["row"])]
        record.update(human_label=answer or "", out_of_scope="" if answer else "yes")
    with open(export, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(sample[0]))
        writer.writeheader()
        writer.writerows(sample)
    assert main(["annotate", folder, "--import", export]) == 0
    assert os.path.exists(os.path.join(folder, "human_labels.jsonl"))

    relabelled = str(tmp_path / "relabelled")
    assert main(["relabel", folder, "--output", relabelled]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["mode"] == "proxy" and summary["human_labels"] == sum(1 for r in sample if r["human_label"])
    assert summary["left_out_of_proxy"] == []
    before, after = load_any(folder), load_any(relabelled)
    names = before.features["label"].names
    accuracy_before = _accuracy([names[i] for i in before["label"]], truth)
    accuracy_after = _accuracy([names[i] for i in after["label"]], truth)
    assert accuracy_after > accuracy_before + 0.2
    for record in sample:  # a person's label is final
        if record["human_label"]:
            assert names[after[int(record["row"])]["label"]] == record["human_label"]

    filtered = str(tmp_path / "filtered")
    labels_file = os.path.join(folder, "human_labels.jsonl")
    assert main(["filter", relabelled, "--output", filtered, "--labels", labels_file]) == 0
    kept, removed = load_any(filtered), datasets.load_from_disk(os.path.join(filtered, "removed"))
    assert len(kept) + len(removed) == len(after)
    sms_texts = {r["text"] for r in _rows("sms_spam_train_sample.jsonl")}
    assert sum(t in sms_texts for t in removed["text"]) >= 0.8 * len(sms_texts)
    assert sum(t not in sms_texts for t in kept["text"]) >= 0.9 * (len(after) - len(sms_texts))
    assert json.load(open(os.path.join(filtered, "filter_summary.json")))["removed"] == len(removed)


def test_bad_human_input_gets_named_errors_before_any_model(saved, tmp_path, capsys):
    folder, _ = saved
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"row": 0, "text": "not the text of row 0", "human_label": "card_arrival"}) + "\n")
    assert main(["annotate", folder, "--import", str(bad)]) == 2
    assert "row 0: its text differs" in capsys.readouterr().err
    row0 = load_any(folder)[0]["text"]
    bad.write_text(json.dumps({"row": 0, "text": row0, "human_label": "no_such_intent"}) + "\n")
    assert main(["annotate", folder, "--import", str(bad)]) == 2
    assert "'no_such_intent' is not one of" in capsys.readouterr().err
    empty = tmp_path / "empty"
    datasets.Dataset.from_dict({"text": [], "label": []}, features=datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["a", "b"])})).save_to_disk(str(empty))
    header_only = tmp_path / "empty.csv"
    header_only.write_text("text,label\n")
    for path in (empty, header_only):
        assert main(["annotate", str(path), "--export", str(tmp_path / "x.csv")]) == 2
        assert "holds no rows" in capsys.readouterr().err
    assert main(["annotate", folder, "--text-column", "body", "--export", str(tmp_path / "x.csv")]) == 2
    assert "has no column 'body'" in capsys.readouterr().err
    unlabelled = tmp_path / "unlabelled.jsonl"
    unlabelled.write_text(json.dumps({"text": row0, "label": "card_arrival"}) + "\n")
    assert main(["relabel", str(unlabelled), "--output", str(tmp_path / "out")]) == 2
    assert "no human labels" in capsys.readouterr().err
    assert main(["relabel", folder, "--mode", "oracle", "--output", str(tmp_path / "out")]) == 2
    assert "--oracle: oracle mode needs" in capsys.readouterr().err


def test_filter_with_the_llm_judge_needs_no_marks_and_keeps_every_row_somewhere(tmp_path, capsys):
    rows = _rows("banking77_train_sample.jsonl")[::60] + _rows("sms_spam_train_sample.jsonl")[:2]
    data = tmp_path / "mixed.jsonl"
    data.write_text("".join(json.dumps({"text": r["text"], "label": "card_arrival" if r["label"] in ("ham", "spam")
                                        else r["label"]}) + "\n" for r in rows))
    assert main(["filter", str(data), "--judge", "llm", "--output", str(tmp_path / "out")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    kept, removed = load_any(str(tmp_path / "out")), datasets.load_from_disk(str(tmp_path / "out" / "removed"))
    assert summary == {"judge": "llm", "rows": len(rows), "kept": len(kept), "removed": len(removed)}
    assert sorted(list(kept["text"]) + list(removed["text"])) == sorted(r["text"] for r in rows)
    assert set(kept["scope_score"]) <= {1.0} and set(removed["scope_score"]) <= {0.0}


def test_relabel_in_llm_mode_needs_no_human_labels(tmp_path, capsys):
    rows = _rows("banking77_train_sample.jsonl")[::105]
    data = tmp_path / "few.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["relabel", str(data), "--mode", "llm", "--output", str(tmp_path / "out")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    relabelled = load_any(str(tmp_path / "out"))
    assert summary["mode"] == "llm" and summary["human_labels"] == 0 and summary["rows"] == len(rows)
    assert summary["changed"].get("llm", 0) == sum(1 for by in relabelled["relabelled_by"] if by == "llm")
    assert list(relabelled["prompted_label"]) == [r["label"] for r in rows] and all(relabelled["llm_answer"])
