"""The openai backend against a real OpenAI-compatible server on loopback: llama.cpp's native server
(`python -m hf_llmgen.serve`, xllamacpp) with the packaged SmolLM2 GGUF, started, killed and restarted by the
tests."""

import http.server
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import datasets
import pytest

from hf_llmgen.backends import Request
from hf_llmgen.backends.openai_api import OpenAIBackend
from hf_llmgen.builder import generation_summary
from hf_llmgen.cli import main
from test_backends_e2e import assert_first_token_logprobs

pytestmark = pytest.mark.slow

MODEL = "smollm2"
KEY = "sk-hfllmgen-test-" + secrets.token_hex(12)


class Server:
    """llama.cpp's server on a fixed loopback port with 4 slots, requiring the test API key."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hf_llmgen.serve", "--alias", MODEL, "--port", str(self.port), "--slots", "4",
             "--api-key-env", "HF_LLMGEN_SERVER_KEY"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HF_LLMGEN_SERVER_KEY": KEY},
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            request = urllib.request.Request(f"{self.url}/models", headers={"Authorization": f"Bearer {KEY}"})
            try:
                with urllib.request.urlopen(request, timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise RuntimeError("hf_llmgen.serve did not start in 120 s")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def server():
    running = Server()
    running.start()
    yield running
    running.kill()


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("HF_LLMGEN_TEST_KEY", KEY)
    return "HF_LLMGEN_TEST_KEY"


def _generate(cache_dir, server, key, **options):
    return datasets.load_dataset(
        "hf_llmgen", "sst2", split="train", cache_dir=str(cache_dir), backend="openai", model=MODEL,
        base_url=server.url, api_key_env=key, **options,
    )


def _cached_requests(cache_dir) -> int:
    """Requests finished so far (0 before the cache file and its table exist)."""
    path = cache_dir / "hf_llmgen_requests" / "requests.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not made yet
            return 0


def test_generate_through_the_server_and_the_key_is_in_no_file_or_log(server, key, tmp_path, capfd):
    out, cache = tmp_path / "out", tmp_path / "cache"
    code = main(["generate", "sst2", "--backend", "openai", "--base-url", server.url, "--model", MODEL,
                 "--api-key-env", key, "--num-examples", "8", "--max-concurrency", "4", "--max-new-tokens", "40",
                 "--output", str(out), "--cache-dir", str(cache)])
    assert code == 0
    generated = datasets.load_from_disk(str(out / "train"))
    assert len(generated) == 8 and set(generated["backend"]) == {"openai"} and set(generated["model"]) == {MODEL}
    written = [p for folder in (out, cache) for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "requests.sqlite" for p in written) and any(p.name == "README.md" for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
    logs = capfd.readouterr()
    assert KEY not in logs.out + logs.err


def test_logit_bias_reaches_the_server_in_its_token_ids(server, key):
    backend = OpenAIBackend(MODEL, server.url, api_key_env=key)
    os.environ[key] = KEY
    ask = [{"role": "user", "content": "Repeat exactly: the cat sat on the mat with the cat."}]
    plain = Request(ask, 24, 0.0, 1.0, 0)
    (_, before), = backend.generate([plain])
    banned = set(backend.content_tokens(" cat")) | set(backend.content_tokens("cat"))
    (_, after), = backend.generate([Request(ask, 24, 0.0, 1.0, 0, {t: -100.0 for t in banned})])
    assert "cat" in before.text.lower()
    counted = Counter(backend.content_tokens(after.text))
    assert not any(counted[t] for t in banned), after.text


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_the_first_tokens_log_probabilities_come_from_the_server(server, key, api):
    backend = OpenAIBackend(MODEL, server.url, api=api, api_key_env=key)
    os.environ[key] = KEY
    ask = [{"role": "user", "content": "Which number is larger, 3 or 8? Answer with the number only."}]
    (_, completion), = backend.generate([Request(ask, 1, 0.0, 1.0, 0, top_logprobs=5)])
    assert_first_token_logprobs(completion, 5)


def test_suppression_runs_on_the_servers_token_counts(server, key, tmp_path):
    proxy = FaultyProxy(server.url, [])
    ds = datasets.load_dataset(
        "hf_llmgen", "sst2", split="train", cache_dir=str(tmp_path), backend="openai", model=MODEL,
        base_url=proxy.url, api_key_env=key, num_examples=12, batch_size=2, max_new_tokens=24, prompt="simple",
        logit_suppression=1.0, suppression_top_n=50,
    )
    proxy.server.shutdown()
    # a first round of 2 short completions cannot hold 12 rows, so later rounds ran, each with a bias from
    # the token counts of the rounds before (the first round has none to send)
    first, later = [body for _, body in proxy.requests[:2]], [body for _, body in proxy.requests[2:]]
    assert len(ds) == 12 and max(ds["round"]) >= 1
    assert not any("logit_bias" in body for body in first)
    assert later and all(0 < len(body["logit_bias"]) <= 50 for body in later)
    assert all(int(token) >= 0 and bias < 0 for body in later for token, bias in body["logit_bias"].items())


def _once_requests_finish(cache_dir, count, action):
    """A started thread that runs `action` once `count` requests are in the request cache; its `done`
    event is set only when the action ran."""
    done = threading.Event()

    def watch():
        deadline = time.time() + 300
        while _cached_requests(cache_dir) < count:
            if time.time() > deadline:
                return
            time.sleep(0.1)
        action()
        done.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    thread.done = done
    return thread


def test_a_server_killed_mid_run_and_restarted_loses_nothing(server, key, tmp_path):
    def restart():
        server.kill()
        time.sleep(3)
        server.start()

    chaos = _once_requests_finish(tmp_path, 3, restart)
    ds = _generate(tmp_path, server, key, num_examples=12, batch_size=6, max_concurrency=3, max_new_tokens=40)
    chaos.join(timeout=180)
    assert chaos.done.is_set()  # the server really went down mid-run
    assert len(ds) == 12
    # no text twice: each (request, position in its completion) is one row, though a completion can hold several
    assert len(set(zip(ds["request_key"], ds["candidate_index"]))) == len(ds)
    assert sorted(Counter(ds["label"]).values()) == [6, 6]


def test_a_server_gone_for_good_stops_the_run_and_a_rerun_reuses_every_finished_request(
    server, key, tmp_path, capfd
):
    out = tmp_path / "out"
    command = ["generate", "sst2", "--backend", "openai", "--base-url", server.url, "--model", MODEL,
               "--api-key-env", key, "--num-examples", "12", "--batch-size", "4", "--max-concurrency", "2",
               "--max-retries", "1", "--max-new-tokens", "40", "--output", str(out), "--cache-dir", str(tmp_path),
               "--logit-suppression", "0"]  # the generation requests fail, not the tokenizer (tested below)
    killer = _once_requests_finish(tmp_path, 4, server.kill)
    try:
        assert main(command) == 1
        killer.join(timeout=60)
        assert killer.done.is_set()
        error = capfd.readouterr().err
        assert "every request of this round failed (connection" in error and "run again to continue" in error
        assert f"{server.url.rstrip('/')}/: Connection error" in error  # the server it tried, named
        finished = _cached_requests(tmp_path)
    finally:  # the module's other tests share the server: it runs again whatever happened here
        killer.join(timeout=60)
        server.kill()
        server.start()
    assert main(command) == 0
    summary = json.loads((out / "generation_summary.json").read_text())
    assert summary["rows"] == 12 and summary["cached_requests"] == finished >= 4


class FaultyProxy:
    """An HTTP proxy on loopback in front of the real server that answers the generation requests it is told
    to with a fault: 429 with Retry-After, a 503, or a reply slower than the client's timeout. It keeps each
    generation request's path, body and time span, and can hide the server's tokenizer (404), as OpenAI's
    API does, or leave `n` out of what it forwards, as servers that ignore `n` do."""

    def __init__(self, upstream: str, faults: list[str], hide_tokenizer: bool = False, drop_n: bool = False) -> None:
        self.upstream = upstream.removesuffix("/v1")
        self.faults = list(faults)  # one per generation request, in arrival order; then every request passes
        self.seen: list[tuple[float, str]] = []  # (time, what was done) per generation request
        self.requests: list[tuple[str, dict]] = []  # (path, JSON body) per generation request
        self.spans: list[tuple[float, float]] = []  # (arrived, answered) per generation request
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                generation = self.path.endswith("completions")  # chat or plain
                fault = proxy.faults.pop(0) if generation and proxy.faults else "pass"
                started = time.monotonic()
                if generation:
                    proxy.seen.append((started, fault))
                    proxy.requests.append((self.path, json.loads(body)))
                self._answer(body, fault)
                if generation:
                    proxy.spans.append((started, self.replied))

            def _answer(self, body, fault):
                if hide_tokenizer and "tokenize" in self.path:
                    return self._reply(404, b'{"detail": "Not Found"}')
                if fault == "429":
                    return self._reply(429, b'{"error": "slow down"}', {"Retry-After": "2"})
                if fault == "503":
                    return self._reply(503, b'{"error": "overloaded"}')
                if fault == "slow":
                    time.sleep(12)
                if drop_n and "tokenize" not in self.path:
                    body = json.dumps({k: v for k, v in json.loads(body).items() if k != "n"}).encode()
                forward = urllib.request.Request(proxy.upstream + self.path, data=body, method="POST", headers={
                    "Content-Type": "application/json", "Authorization": self.headers["Authorization"]})
                with urllib.request.urlopen(forward) as answer:
                    self._reply(answer.status, answer.read())

            def _reply(self, status, body, headers=None):
                self.replied = time.monotonic()  # before the client can hear it, and send its next request
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _run_through(proxy, tmp_path, key, **options):
    """Generate sst2 rows through `proxy`, then shut it down: the rows and the run's summary."""
    builder = datasets.load_dataset_builder(
        "hf_llmgen", "sst2", cache_dir=str(tmp_path), backend="openai", model=MODEL, base_url=proxy.url,
        api_key_env=key, **options,
    )
    builder.download_and_prepare()
    proxy.server.shutdown()
    return builder.as_dataset(split="train"), generation_summary(builder)


def test_429_503_and_slow_replies_are_retried_and_every_row_arrives(server, key, tmp_path):
    proxy = FaultyProxy(server.url, ["429", "503", "slow", "429"])
    # short completions answer in well under the 6 s timeout, so only the "slow" reply (12 s) times out
    ds, summary = _run_through(proxy, tmp_path, key, num_examples=6, max_concurrency=1, request_timeout=6.0,
                               max_new_tokens=32)
    assert len(ds) == 6 and sorted(Counter(ds["label"]).values()) == [3, 3]
    faults = [fault for _, fault in proxy.seen]
    # every fault was retried until its request passed, none failed for good (requests that share a prompt
    # go out as one call with n choices, so there are at most as many passing calls as requests)
    assert faults[:4] == ["429", "503", "slow", "429"] and 1 <= faults.count("pass") <= summary.requests
    assert not summary.failed
    # with one request in flight, the request after a 429 came no sooner than its Retry-After of 2 s
    after_429 = [later - at for (at, fault), (later, _) in zip(proxy.seen, proxy.seen[1:]) if fault == "429"]
    assert len(after_429) == 2 and min(after_429) >= 2.0


def test_requests_per_minute_spaces_the_requests(server, key, tmp_path):
    proxy = FaultyProxy(server.url, [])
    ds = datasets.load_dataset(
        "hf_llmgen", "sst2", split="train", cache_dir=str(tmp_path), backend="openai", model=MODEL,
        base_url=proxy.url, api_key_env=key, num_examples=4, batch_size=4, max_concurrency=4, requests_per_minute=60,
        max_new_tokens=40,
    )
    proxy.server.shutdown()
    starts = [at for at, _ in proxy.seen]
    assert len(ds) == 4 and all(later - at >= 0.95 for at, later in zip(starts, starts[1:]))


def _choices_run(tmp_path, proxy, key):
    """8 rows, 4 requests of a label sharing one prompt; the run's summary."""
    ds, summary = _run_through(proxy, tmp_path, key, num_examples=8, batch_size=8, choices_per_prompt=4,
                               max_new_tokens=40)
    assert len(ds) == 8 and sorted(Counter(ds["label"]).values()) == [4, 4]
    assert len(set(zip(ds["request_key"], ds["candidate_index"]))) == 8
    assert len(set(ds["request_key"])) > 2  # the choices of one prompt are requests of their own (one completion
    # can hold several texts, so rows and requests need not pair up)
    return summary


def test_a_prompt_shared_by_requests_goes_out_once_with_n_choices(server, key, tmp_path):
    proxy = FaultyProxy(server.url, [])
    summary = _choices_run(tmp_path, proxy, key)
    # the first round's 8 requests are two prompts (one per label) of 4 choices each: 2 calls, not 8
    assert [body.get("n") for _, body in proxy.requests[:2]] == [4, 4]
    assert len(proxy.requests) <= summary.requests - 6


def test_a_server_that_ignores_n_gets_the_other_choices_one_by_one(server, key, tmp_path):
    proxy = FaultyProxy(server.url, [], drop_n=True)
    summary = _choices_run(tmp_path, proxy, key)
    # both first prompts ask for 4 choices and get one; their other 3 requests go singly, n never sent again
    prompts = Counter(json.dumps(body["messages"]) for _, body in proxy.requests)
    with_n = [json.dumps(body["messages"]) for _, body in proxy.requests if "n" in body]
    assert [body["n"] for _, body in proxy.requests if "n" in body] == [4, 4]
    assert len(set(with_n)) == 2 and all(prompts[prompt] >= 4 for prompt in with_n)
    assert len(proxy.requests) == summary.requests


def test_the_completions_endpoint_generates_rows(server, key, tmp_path):
    proxy = FaultyProxy(server.url, [])
    ds = datasets.load_dataset(
        "hf_llmgen", "sst2", split="train", cache_dir=str(tmp_path), backend="openai", model=MODEL,
        base_url=proxy.url, api_key_env=key, api="completions", num_examples=4, prompt="simple", min_words=1,
        max_new_tokens=40, label_check="none",  # this test is about the endpoint; the check could leave a label short of its rows
    )
    proxy.server.shutdown()
    assert len(ds) == 4 and set(ds["backend"]) == {"openai-completions"}
    assert {path for path, _ in proxy.requests} == {"/v1/completions"}
    assert all(body["prompt"].endswith("\n\n") and "messages" not in body for _, body in proxy.requests)


def test_max_cost_stops_the_run_cleanly_and_a_rerun_pays_only_for_new_requests(server, key, tmp_path, capfd):
    prices = tmp_path / "prices.yaml"
    prices.write_text(f"{MODEL}: {{input: 100, output: 100}}\n")  # USD per million tokens: 1 cent per 100
    out = tmp_path / "out"
    command = ["generate", "sst2", "--backend", "openai", "--base-url", server.url, "--model", MODEL,
               "--api-key-env", key, "--num-examples", "16", "--max-new-tokens", "40", "--prices", str(prices),
               "--output", str(out), "--cache-dir", str(tmp_path)]
    assert main(command + ["--max-cost", "0.1", "--estimate"]) == 0
    estimate = json.loads(capfd.readouterr().out)
    assert estimate["requests_if_every_text_is_kept"] == 16 and estimate["cost_usd_at_most"] == 0.1

    assert main(command + ["--max-cost", "0.1"]) == 0
    first = json.loads((out / "generation_summary.json").read_text())
    assert first["max_cost_reached"] and 0 < first["rows"] < 16 and first["requests"] >= 2
    spent = first["spent_prompt_tokens"] * 100e-6 + first["spent_completion_tokens"] * 100e-6
    assert first["cost_usd"] == pytest.approx(spent, abs=1e-6) and first["cost_usd"] <= 0.1
    assert first["spent_prompt_tokens"] == first["prompt_tokens"] > 0  # nothing came from the cache
    card = (out / "README.md").read_text()
    assert "stopped at its `max_cost` of 0.1 USD" in card and f"{first['cost_usd']:.6f}" in card

    assert main(command + ["--max-cost", "10"]) == 0
    second = json.loads((out / "generation_summary.json").read_text())
    assert second["rows"] == 16 and not second["max_cost_reached"]
    assert second["cached_requests"] == first["requests"]
    assert second["prompt_tokens"] - second["spent_prompt_tokens"] == first["spent_prompt_tokens"]


@pytest.mark.parametrize("model, why", [
    ("smollm2", "tiktoken does not know the model 'smollm2'"),
    ("gpt-4o-mini", "tiktoken could not load 'o200k_base' for 'gpt-4o-mini'"),
])
def test_suppression_without_a_tokenizer_stops_before_any_request(server, key, tmp_path, capfd, monkeypatch, model, why):
    # no route to tiktoken's download (any machine, online or not); loopback stays direct
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
    proxy = FaultyProxy(server.url, [], hide_tokenizer=True)
    code = main(["generate", "sst2", "--backend", "openai", "--base-url", proxy.url, "--model", model,
                 "--api-key-env", key, "--num-examples", "4", "--logit-suppression", "1", "--output",
                 str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")])
    proxy.server.shutdown()
    error = capfd.readouterr().err
    assert code == 2 and "logit_suppression: the server at" in error and "exposes no tokenizer" in error
    assert why in error and proxy.requests == []


def test_requests_run_concurrently_up_to_max_concurrency_and_share_several_urls(server, key, tmp_path):
    first, second = FaultyProxy(server.url, []), FaultyProxy(server.url, [])
    ds = datasets.load_dataset(
        "hf_llmgen", "sst2", split="train", cache_dir=str(tmp_path), backend="openai", model=MODEL,
        base_url=f"{first.url},{second.url}", api_key_env=key, num_examples=12, batch_size=12, max_concurrency=3,
        max_new_tokens=40,
    )
    first.server.shutdown()
    second.server.shutdown()
    assert len(ds) == 12
    assert first.requests and second.requests  # a call goes to URL (its first request's index) mod 2
    # the server computes 4 at once, so the client's limit decides: 3 in flight at most, and 3 at once
    assert most_at_once(first.spans + second.spans) == 3


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one moment."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    open_now = most = 0
    for _, change in events:
        open_now += change
        most = max(most, open_now)
    return most


def test_suppression_with_no_server_up_stops_with_a_message(key, tmp_path, capfd):
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    code = main(["generate", "sst2", "--backend", "openai", "--base-url", f"http://127.0.0.1:{closed}/v1",
                 "--model", MODEL, "--api-key-env", key, "--num-examples", "2", "--logit-suppression", "1",
                 "--output", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")])
    error = capfd.readouterr().err
    assert code == 1 and f"the server at http://127.0.0.1:{closed} did not answer /tokenize" in error
    assert "run again once it is up" in error
