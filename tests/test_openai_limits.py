"""The openai backend's client-side pieces on plain inputs: rate limits, token estimates, Retry-After,
backoff, grouping identical prompts into one request with n choices, and the completions prompt."""

import asyncio

from hf_llmgen.backends import Request
from hf_llmgen.backends.openai_api import (
    OpenAIBackend, RateLimit, _retry_after, completion_prompt, estimated_tokens, same_prompt_groups, split_usage,
)


def test_a_rate_limit_spaces_work_evenly_without_bursts():
    async def starts(limit, costs):
        loop = asyncio.get_running_loop()
        begin, times = loop.time(), []

        async def one(cost):
            await limit.wait(cost)
            times.append(loop.time() - begin)

        await asyncio.gather(*(one(c) for c in costs))
        return sorted(times)

    times = asyncio.run(starts(RateLimit(per_minute=600), [1] * 5))  # one every 0.1 s
    assert [round(t, 1) for t in times] == [0.0, 0.1, 0.2, 0.3, 0.4]
    times = asyncio.run(starts(RateLimit(per_minute=6000), [100, 300, 100]))  # tokens: 100 take 1 s
    assert [round(t, 1) for t in times] == [0.0, 1.0, 4.0]


def test_token_estimates_retry_after_and_backoff():
    request = Request([{"role": "user", "content": "x" * 400}], max_tokens=96, temperature=0.7, top_p=0.9, seed=1)
    assert estimated_tokens(request) == 196 and estimated_tokens(request, choices=3) == 100 + 3 * 96
    assert _retry_after("2") == 2.0 and _retry_after(None) is None
    assert _retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    backend = OpenAIBackend("m", "http://127.0.0.1:1/v1", backoff=0.5, max_backoff=30)
    delays = [backend._delay(attempt) for attempt in range(10)]
    assert 0.25 <= delays[0] <= 0.5 and 2.0 <= delays[3] <= 4.0 and all(d <= 30 for d in delays)
    assert backend.model_id == "m" and backend.base_urls == ["http://127.0.0.1:1/v1"]


def _ask(content, seed, bias=None):
    return Request([{"role": "user", "content": content}], 32, 0.7, 0.9, seed, bias or {})


def test_requests_differing_only_in_seed_share_one_call():
    requests = [_ask("a", 1), _ask("b", 2), _ask("a", 3), _ask("a", 4), _ask("a", 5, {7: -1.0}), _ask("a", 6)]
    assert same_prompt_groups(requests, most=8) == [[0, 2, 3, 5], [1], [4]]
    assert same_prompt_groups(requests, most=3) == [[0, 2, 3], [5], [1], [4]]
    assert same_prompt_groups(requests, most=1) == [[i] for i in (0, 2, 3, 5, 1, 4)]


def test_usage_of_a_call_with_choices_is_shared_out():
    completions = split_usage(["x", "y", "z"], prompt_tokens=50, completion_tokens=10)
    assert [c.text for c in completions] == ["x", "y", "z"]
    assert [c.prompt_tokens for c in completions] == [50, 0, 0]  # the prompt is paid once
    assert [c.completion_tokens for c in completions] == [4, 3, 3]


def test_the_completions_prompt_joins_the_messages():
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write a review."}]
    assert completion_prompt(messages) == "Be brief.\n\nWrite a review.\n\n"
