"""Logit suppression with the real embedded model: the most frequent tokens of early rounds become rarer."""

from collections import Counter

import datasets
import pytest

from hf_llmgen.backends.local import LocalBackend
from hf_llmgen.generation.cache import RequestCache
from hf_llmgen.generation.runner import GenerationRun
from hf_llmgen.generation.settings import GenerationSettings
from hf_llmgen.task import load_task

pytestmark = pytest.mark.slow


def token_counts(backend, texts):
    counts = Counter()
    for text in texts:
        counts.update(backend.content_tokens(text))
    return counts


def test_frequent_tokens_of_earlier_rounds_become_rarer(tmp_path):
    options = dict(split="train", cache_dir=str(tmp_path), num_examples=18, batch_size=6, prompt="simple", seed=0,
                   max_new_tokens=48, label_check="none")  # the token counts alone: no check asking for more rounds
    plain = datasets.load_dataset("hf_llmgen", "sst2", logit_suppression=0.0, **options)
    suppressed = datasets.load_dataset("hf_llmgen", "sst2", logit_suppression=1.0, **options)

    # Round 0 has no bias yet, so both runs start from the same texts.
    first_round = [row["text"] for row in plain if row["round"] == 0]
    assert first_round == [row["text"] for row in suppressed if row["round"] == 0]

    backend = LocalBackend()
    top = [token for token, _ in token_counts(backend, first_round).most_common(20)]

    def later_share(ds):
        counts = token_counts(backend, [row["text"] for row in ds if row["round"] > 0])
        return sum(counts[t] for t in top) / sum(counts.values())

    plain_share, suppressed_share = later_share(plain), later_share(suppressed)
    backend.close()
    print(f"share of round-0 top-20 tokens in later rounds: plain {plain_share:.3f}, suppressed {suppressed_share:.3f}")
    assert suppressed_share < 0.6 * plain_share, (plain_share, suppressed_share)


def test_a_request_never_suppresses_its_own_labels_words(tmp_path):
    settings = GenerationSettings(task="sst2")
    task = load_task("sst2")
    backend = LocalBackend()
    run = GenerationRun(settings, task, backend, RequestCache(str(tmp_path / "requests.sqlite")))
    words = {"negative": " boring dull awful", "positive": " brilliant moving funny"}
    for text in words.values():  # as if every label's words had been written often in earlier rounds
        run.frequency.update(backend.content_tokens(text) * 20)
    run.frequency.update(backend.content_tokens(" the film was a movie and it is"))
    requests, _, _ = run.requests_for(1, ["negative", "positive"])
    own = {label: set(backend.content_tokens(text)) for label, text in words.items()}
    backend.close()
    for request, label, other in zip(requests, ("negative", "positive"), ("positive", "negative")):
        assert not own[label] & set(request.logit_bias), label  # its own words are free
        assert own[other] <= set(request.logit_bias), label  # the other label's words are suppressed
        assert request.logit_bias  # and so are the shared words
