import pytest
import torch

from hf_llmgen.backends.base import Request
from hf_llmgen.backends.hf import _frequency_processor
from hf_llmgen.backends.local import chat_body
from hf_llmgen.generation.suppression import TokenFrequency, spellings


def table(counts: dict[int, int]) -> TokenFrequency:
    freq = TokenFrequency()
    for token, n in counts.items():
        freq.update([token] * n)
    return freq


def test_empty_table_gives_no_bias():
    assert TokenFrequency().logit_bias() == {}


def test_bias_is_share_in_percent_times_minus_7_5_capped():
    # 1000 tokens: token 7 has 0.5 %, token 8 has 2 %, token 9 has 0.1 %, token 10 the rest
    freq = table({7: 5, 8: 20, 9: 1, 10: 974})
    bias = freq.logit_bias(top_n=100, strength=1.0)
    assert bias[7] == pytest.approx(-3.75)
    assert bias[8] == pytest.approx(-7.5)
    assert bias[9] == pytest.approx(-0.75)
    assert bias[10] == pytest.approx(-7.5)


def test_only_the_top_n_tokens_are_biased():
    freq = table({1: 50, 2: 40, 3: 10})
    assert set(freq.logit_bias(top_n=2)) == {1, 2}


def test_strength_scales_and_zero_turns_off():
    freq = table({7: 5, 10: 995})
    assert freq.logit_bias(strength=0.5)[7] == pytest.approx(-1.875)
    assert freq.logit_bias(strength=0) == {}


def test_counts_accumulate_across_updates():
    freq = TokenFrequency()
    freq.update([1, 2])
    freq.update([1])
    assert freq.counts[1] == 2 and freq.total == 3


def test_spellings_cover_case_and_a_leading_space_of_every_word():
    assert spellings(["a joy"]) == {"a", " a", "A", " A", "joy", " joy", "Joy", " Joy", "JOY", " JOY"}


def test_the_frequency_penalty_counts_only_the_completion_written_so_far():
    input_ids = torch.tensor([[5, 3, 5, 5, 2], [1, 1, 4, 0, 0]])  # a 2-token prompt, then what each row wrote
    scores = _frequency_processor(0.5, prompt_length=2)(input_ids, torch.zeros(2, 6))
    assert scores.tolist() == [[0, 0, -0.5, 0, 0, -1.0], [-1.0, 0, 0, 0, -0.5, 0]]


def test_the_engine_gets_the_frequency_penalty_of_its_request():
    body = chat_body(Request([{"role": "user", "content": "Hi"}], 8, 0.7, 0.9, seed=1, frequency_penalty=0.4))
    assert body["frequency_penalty"] == 0.4 and body["seed"] == 1
