"""Both backends with the real packaged model: greedy output, a logit bias that really bans a token, a frequency
penalty that makes a completion repeat itself less, and the first token's log-probabilities.

The transformers backend runs on the CPU unless HF_LLMGEN_TEST_DEVICE names another torch device (e.g. cuda)."""

import math
import os

import datasets
import pytest

from hf_llmgen.backends import make_backend
from hf_llmgen.backends.base import Request
from hf_llmgen.backends.hf import TransformersBackend
from hf_llmgen.backends.local import LocalBackend
from hf_llmgen.generation.settings import GenerationSettings

pytestmark = pytest.mark.slow

DEVICE = os.environ.get("HF_LLMGEN_TEST_DEVICE", "cpu")
MESSAGES = [{"role": "user", "content": "Write one sentence about the sea."}]


def complete(backend, bias=None):
    request = Request(MESSAGES, max_tokens=12, temperature=0.0, top_p=1.0, seed=0, logit_bias=bias or {})
    [(index, completion)] = list(backend.generate([request]))
    assert index == 0
    return completion


@pytest.fixture(scope="module", params=["local", "transformers"])
def backend(request):
    backend = LocalBackend() if request.param == "local" else TransformersBackend(device=DEVICE)
    yield backend
    backend.close()


def test_greedy_output_is_text_with_its_tokens_and_repeatable_where_promised(backend):
    first, second = complete(backend), complete(backend)
    assert first.text and second.text and first.token_ids
    assert first.completion_tokens > 0 and first.prompt_tokens > 0
    if backend.name == "transformers":  # one batch, the same kernels; llama.cpp's prompt cache and batched
        assert first.text == second.text  # numerics promise no such thing (README, "Same request, same text?")


def test_a_negative_bias_bans_the_token(backend):
    plain = complete(backend)
    banned = plain.token_ids[0]
    biased = complete(backend, {banned: -100.0})
    assert biased.text != plain.text
    assert biased.token_ids[0] != banned


def test_requests_with_different_biases_in_one_call_each_get_their_own(backend):
    plain = complete(backend)
    banned = plain.token_ids[0]
    requests = [Request(MESSAGES, 12, 0.0, 1.0, 0, logit_bias=bias) for bias in ({}, {banned: -100.0}, {})]
    completions = dict(backend.generate(requests))
    assert sorted(completions) == [0, 1, 2]
    assert completions[1].token_ids[0] != banned and completions[1].text != plain.text
    assert completions[0].token_ids[0] == completions[2].token_ids[0] == banned  # the unbiased ones, untouched


def test_a_frequency_penalty_makes_a_completion_repeat_its_tokens_less(backend):
    ask = [{"role": "user", "content": "Continue this text: la la la la la la la la la la la la la la"}]
    plain, penalised = (Request(ask, 40, 0.0, 1.0, 0, frequency_penalty=penalty) for penalty in (0.0, 2.0))
    completions = dict(backend.generate([plain, penalised]))
    distinct = [len(set(completions[i].token_ids)) / len(completions[i].token_ids) for i in (0, 1)]
    assert distinct[0] < distinct[1], (distinct, completions[0].text, completions[1].text)


def assert_first_token_logprobs(completion, k):
    """The k likeliest first tokens, likeliest first, with log-probabilities; the greedy answer is the first."""
    tokens, logprobs = zip(*completion.top_logprobs)
    assert len(tokens) == k and all(v <= 0 for v in logprobs) and list(logprobs) == sorted(logprobs, reverse=True)
    assert completion.text.startswith(tokens[0].strip())
    assert sum(math.exp(v) for v in logprobs) <= 1 + 1e-3


def test_the_first_tokens_log_probabilities_come_back_when_asked_for(backend):
    ask = [{"role": "user", "content": "Which number is larger, 3 or 8? Answer with the number only."}]
    [(_, completion)] = list(backend.generate([Request(ask, 1, 0.0, 1.0, 0, top_logprobs=5)]))
    assert_first_token_logprobs(completion, 5)
    assert complete(backend).top_logprobs == ()  # not asked for: none


def test_transformers_backend_through_the_builder(tmp_path):
    ds = datasets.load_dataset(
        "hf_llmgen", "sst2", split="train", cache_dir=str(tmp_path), num_examples=4, backend="transformers",
        device=DEVICE, max_new_tokens=48,
    )
    assert len(ds) == 4 and sorted(ds["label"]) == [0, 0, 1, 1]
    assert set(ds["backend"]) == {"transformers"}


def test_the_transformers_backend_decodes_a_whole_round_in_one_call():
    settings = GenerationSettings(task="sst2", backend="transformers", device=DEVICE, batch_size=32)
    assert make_backend(settings).max_batch == 32
