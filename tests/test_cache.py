from dataclasses import replace

import pytest

from hf_llmgen.backends.base import Completion, Request
from hf_llmgen.generation.cache import RequestCache, request_key
from hf_llmgen.metrics import EmbeddingCache

REQUEST = Request([{"role": "user", "content": "Write a review."}], 64, 1.0, 1.0, seed=7, logit_bias={5: -1.0})


def test_key_depends_on_every_parameter_and_the_seed():
    base = request_key("local", "m", REQUEST)
    variants = [
        replace(REQUEST, seed=8),
        replace(REQUEST, temperature=0.5),
        replace(REQUEST, top_p=0.9),
        replace(REQUEST, max_tokens=65),
        replace(REQUEST, logit_bias={5: -2.0}),
        replace(REQUEST, messages=[{"role": "user", "content": "Write a tweet."}]),
    ]
    keys = {request_key("local", "m", v) for v in variants} | {request_key("local", "other", REQUEST), base}
    assert len(keys) == len(variants) + 2
    assert base == request_key("local", "m", replace(REQUEST))
    assert request_key("local", "m", replace(REQUEST, top_logprobs=20)) not in keys
    assert request_key("local", "m", replace(REQUEST, frequency_penalty=0.5)) not in keys


def test_keys_made_before_log_probabilities_existed_are_unchanged():
    # this request's key as every earlier version made it: caches written then are still read
    assert request_key("local", "m", REQUEST) == "30151bea6c235d03c9375452a92abd2c7a3d561063f790280ef21d9aabe04c39"


def test_completions_survive_reopening(tmp_path):
    path = str(tmp_path / "r.sqlite")
    cache = RequestCache(path)
    cache.put("k", Completion("text", [1, 2], 10, 2))
    cache.close()
    again = RequestCache(path)
    assert again.get("k") == Completion("text", [1, 2], 10, 2)
    assert again.get("missing") is None
    assert len(again) == 1


def test_first_token_log_probabilities_are_stored_with_their_completion(tmp_path):
    cache = RequestCache(str(tmp_path / "r.sqlite"))
    completion = Completion("1", [33], 80, 1, (("1", -0.5), ("2", -1.25)))
    cache.put("k", completion)
    assert cache.get("k") == completion
    cache.put("k", Completion("2", [34], 80, 1))  # replaced by a completion without them: none are left
    assert cache.get("k").top_logprobs == ()


def test_a_put_that_fails_midway_stores_nothing_and_raises_its_own_error(tmp_path):
    cache = RequestCache(str(tmp_path / "r.sqlite"))
    with pytest.raises(TypeError, match="not JSON serializable"):  # after the completion's row, before COMMIT
        cache.put("k", Completion("1", [33], 80, 1, (("1", {-0.5}),)))
    assert cache.get("k") is None and len(cache) == 0
    cache.put("k", Completion("1", [33], 80, 1))  # no transaction was left open
    assert len(cache) == 1


def test_run_stats_are_kept_per_shard(tmp_path):
    cache = RequestCache(str(tmp_path / "r.sqlite"))
    cache.put_stats("run", 1, {"rows": 2})
    cache.put_stats("run", 0, {"rows": 1})
    cache.put_stats("run", 0, {"rows": 3})
    assert cache.get_stats("run") == [{"rows": 3}, {"rows": 2}]


def _open_and_close(args):
    kind, path = args
    (RequestCache(path) if kind == "requests" else EmbeddingCache(path=path)).close()
    return "ok"


@pytest.mark.parametrize("kind", ["requests", "embeddings"])
def test_many_processes_can_create_the_same_new_cache_at_once(tmp_path, kind):
    import multiprocess

    paths = [str(tmp_path / f"trial{trial}" / "r.sqlite") for trial in range(25)]
    with multiprocess.Pool(4) as pool:
        for path in paths:
            assert pool.map(_open_and_close, [(kind, path)] * 4) == ["ok"] * 4
