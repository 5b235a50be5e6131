"""Prices, the spending of a run under max_cost, and the estimate before a run, on plain inputs."""

import pytest

from hf_llmgen.backends import Completion, Request
from hf_llmgen.generation.cost import PRICES, Price, Spending, find_price, read_prices
from hf_llmgen.generation.estimate import check_max_cost, estimate_run, unwise_settings
from hf_llmgen.generation.settings import GenerationSettings
from hf_llmgen.task import load_task


def test_a_price_is_found_by_name_snapshot_or_prices_file():
    assert find_price("gpt-4o-mini") == Price(0.15, 0.60)
    assert find_price("gpt-4o-mini-2024-07-18") == PRICES["gpt-4o-mini"]  # the longest matching name wins
    assert find_price("gpt-4o-2024-08-06") == PRICES["gpt-4o"]
    assert find_price("my-model") is None
    mine = {"my-model": {"input": 1.0, "output": 2.0}, "gpt-4o-mini": {"input": 0.0, "output": 0.0}}
    assert find_price("my-model", mine) == Price(1.0, 2.0) and find_price("gpt-4o-mini", mine) == Price(0, 0)
    assert Price(1.0, 2.0).cost(1_000_000, 500_000) == 2.0


def test_bad_prices_are_refused_naming_the_model(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text("my-model: {input: 1.5, output: 3}\n")
    assert read_prices(str(path)) == {"my-model": {"input": 1.5, "output": 3.0}}
    for bad, message in [({"m": {"input": 1}}, "'m' needs input and output"),
                         ({"m": {"input": -1, "output": 1}}, "numbers >= 0"),
                         ({}, "expected {model:"),
                         (str(tmp_path / "missing.yaml"), "no file at")]:
        with pytest.raises(ValueError, match="prices: ") as err:
            read_prices(bad)
        assert message in str(err.value)


def test_max_cost_needs_the_openai_backend_a_price_and_room_for_one_request():
    task = load_task("sst2")
    with pytest.raises(ValueError, match="max_cost: only the openai backend"):
        check_max_cost(GenerationSettings(task="sst2", max_cost=1.0), task)
    with pytest.raises(ValueError, match="max_cost: no price is known for the model 'mine'.*--prices FILE"):
        check_max_cost(GenerationSettings(task="sst2", backend="openai", model="mine", max_cost=1.0), task)
    check_max_cost(GenerationSettings(task="sst2", backend="openai", model="gpt-4o-mini", max_cost=1.0), task)
    with pytest.raises(ValueError, match="max_cost: 1e-06 USD does not cover one request"):
        check_max_cost(GenerationSettings(task="sst2", backend="openai", model="gpt-4o-mini", max_cost=1e-6), task)
    with pytest.raises(ValueError, match="max_cost: must be > 0"):
        GenerationSettings(task="sst2", backend="openai", model="gpt-4o-mini", max_cost=0).validate()


def _request(characters, max_tokens=100):
    return Request([{"role": "user", "content": "x" * characters}], max_tokens, 0.7, 0.9, 0)


def test_spending_prices_requests_at_their_worst_case_until_the_server_counts_tokens():
    spending = Spending(Price(input=1_000_000, output=1_000_000), max_cost=1000)  # 1 USD a token
    # before any count a prompt is taken at 0.5 tokens a character: 200 + 100 tokens = 300 USD each
    assert spending.affordable([_request(400)] * 5) == 3
    spending.add(_request(400), Completion("text", [], prompt_tokens=100, completion_tokens=40))
    assert spending.cost == 140 and spending.tokens_per_character == 0.25
    # 860 USD left; each now 100 + 100 = 200 USD at worst
    assert spending.affordable([_request(400)] * 5) == 4
    spending.add(_request(400), Completion("text", [], prompt_tokens=120, completion_tokens=40))
    assert spending.tokens_per_character == 0.3  # the highest count seen
    assert Spending(None).cost is None and Spending(None).affordable([_request(10)] * 7) == 7


def test_the_estimate_counts_requests_tokens_and_cost_before_the_run():
    settings = GenerationSettings(task="sst2", backend="openai", model="gpt-4o-mini", num_examples=100,
                                  texts_per_request=2, max_new_tokens=50, batch_size=4)
    estimate = estimate_run(settings, load_task("sst2"))
    assert estimate["requests_if_every_text_is_kept"] == 50 and estimate["requests_at_most"] == 4 * 50 + 4
    assert 50 < estimate["prompt_tokens_per_request"] < 400
    per_request = PRICES["gpt-4o-mini"].cost(estimate["prompt_tokens_per_request"], 50)
    assert estimate["cost_usd_if_every_text_is_kept"] == pytest.approx(50 * per_request, abs=1e-6)
    assert estimate["cost_usd_at_most"] == pytest.approx(204 * per_request, abs=1e-6)
    capped = estimate_run(GenerationSettings(**{**vars(settings), "max_cost": 0.001}), load_task("sst2"))
    assert capped["cost_usd_at_most"] == 0.001
    assert estimate_run(GenerationSettings(task="sst2"), load_task("sst2"))["cost_usd_at_most"] is None


def test_legal_but_unwise_settings_are_named_with_what_they_cost():
    sst2 = load_task("sst2")
    assert unwise_settings(GenerationSettings(task="sst2"), sst2) == []
    hot = unwise_settings(GenerationSettings(task="sst2", temperature=1.8), sst2)
    assert len(hot) == 1 and hot[0].startswith("temperature 1.8: above 1.5") and "more requests" in hot[0]
    assert "near-greedy" in unwise_settings(GenerationSettings(task="sst2", temperature=0.1), sst2)[0]
    wordy = load_task({"name": "t", "text_type": "review", "labels": [
        {"name": "good", "description": "liked " * 70}, {"name": "bad", "description": "disliked"}]})
    notes = unwise_settings(GenerationSettings(task="t", max_new_tokens=1000), wordy)
    assert any(n.startswith("labels[good].description: 70 words") for n in notes)
    assert any("fill over half of a slot's 2048-token context" in n for n in notes)
    emotion = load_task("emotion")
    assert unwise_settings(GenerationSettings(task="emotion", num_examples=6), emotion) == [
        "labels[love].share: gives it no rows of num_examples 6; num_examples 13 or more gives it at least one",
        "labels[surprise].share: gives it no rows of num_examples 6; num_examples 28 or more gives it at least one"]
    assert unwise_settings(GenerationSettings(task="emotion", num_examples=28), emotion) == []
