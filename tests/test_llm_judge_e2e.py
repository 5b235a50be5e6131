"""The generator as a judge, with the real embedded SmolLM2: label replacement's LLM mode and the
out-of-scope filter, on real Banking77 texts."""

import json
import os

import datasets
import pytest

from hf_llmgen.generation.parse import parse_choice
from hf_llmgen.interventions.llm import LLMJudge, LLMRelabeler, LLMScopeFilter

pytestmark = pytest.mark.slow

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "real_texts.jsonl")


@pytest.fixture(scope="module")
def bank():
    rows = [json.loads(line) for line in open(FIXTURE, encoding="utf-8")]
    rows = [r for r in rows if r["source"].startswith("banking77")][::4]
    return datasets.Dataset.from_dict({"text": [r["text"] for r in rows], "label": [r["label"] for r in rows]})


def test_llm_relabeling_takes_the_label_the_model_names_and_keeps_its_answer(bank):
    names = sorted(set(bank["label"]))
    relabelled = bank.map(LLMRelabeler(names), batched=True, batch_size=6)
    parsed = 0
    for before, row in zip(bank, relabelled):
        choice = parse_choice(row["llm_answer"], names)
        assert row["prompted_label"] == before["label"]
        if choice is None:  # an answer naming no label changes nothing
            assert (row["label"], row["label_score"], row["relabelled_by"]) == (before["label"], 0.0, "")
        else:
            parsed += 1
            assert row["label"] == choice and row["label_score"] == 1.0
            assert row["relabelled_by"] == ("llm" if choice != before["label"] else "")
    assert parsed >= len(bank) // 2


def test_the_scope_filter_removes_exactly_the_rows_it_answers_no_for(bank):
    names = sorted(set(bank["label"]))
    kept = bank.filter(LLMScopeFilter(names), batched=True, batch_size=6)
    answers = LLMJudge().fits(bank["text"], names)
    assert all(parse_choice(answer, ("yes", "no")) for answer in answers)
    assert list(kept["text"]) == [t for t, a in zip(bank["text"], answers) if parse_choice(a, ("yes", "no")) != "no"]
    parts = LLMScopeFilter(names).split(bank, batch_size=6)
    assert list(parts["kept"]["text"]) == list(kept["text"]) and len(parts["removed"]) == len(bank) - len(kept)
    again = bank.filter(LLMScopeFilter(names), batched=True, batch_size=6)
    assert again._fingerprint == kept._fingerprint and list(again["text"]) == list(kept["text"])
