"""Any OpenAI-compatible API (OpenAI, vLLM, llama.cpp's server, TGI, Ollama), chat or completions: requests of
a round run concurrently, identical prompts go out as one request with `n` choices where the server allows it,
failed requests are retried with backoff, and a request that fails for good is reported, not lost. The API key
is read from the environment when requests are made and is kept nowhere else."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import random
import threading
from typing import Any, Iterator, Sequence

from .base import (
    CHARACTERS_PER_TOKEN, Backend, BackendUnavailable, Completion, ContentTokens, Request, RequestFailure,
    first_token_logprobs, prompt_characters,
)
from .server_tokenizer import Tokenizer, post_json, server_tokenizer

MAX_CHOICES = 128  # the most choices (`n`) OpenAI's API gives for one request

logger = logging.getLogger(__name__)

APIS = ("chat", "completions")
OPENAI_URL = "https://api.openai.com/v1"
OPENAI_MAX_BIASED_TOKENS = 300  # the OpenAI API refuses a logit_bias with more entries


class RateLimit:
    """Spreads work evenly under a per-minute limit: each `wait(cost)` reserves cost / limit of a minute on a
    shared timeline and sleeps until its turn (no bursts). The timeline is the monotonic clock, so one limit
    holds across the event loops of successive rounds."""

    def __init__(self, per_minute: float) -> None:
        self.seconds_per_unit = 60.0 / per_minute
        self.next_free = 0.0

    async def wait(self, cost: float = 1.0) -> None:
        now = asyncio.get_running_loop().time()
        start = max(now, self.next_free)
        self.next_free = start + cost * self.seconds_per_unit
        await asyncio.sleep(start - now)


def estimated_tokens(request: Request, choices: int = 1) -> int:
    """Tokens a request may use, for tokens-per-minute limits: its prompt at about 4 characters a token,
    plus its completion budget for each choice."""
    return prompt_characters(request) // CHARACTERS_PER_TOKEN + request.max_tokens * choices


def completion_prompt(messages: list[dict[str, str]]) -> str:
    """The chat messages as one plain prompt for the completions endpoint: their texts, a blank line apart."""
    return "\n\n".join(message["content"] for message in messages) + "\n\n"


def same_prompt_groups(requests: Sequence[Request], most: int) -> list[list[int]]:
    """Indices of requests that differ only in their seed, in groups of at most `most` (one API call each)."""
    groups: dict[str, list[list[int]]] = {}
    for index, request in enumerate(requests):
        key = json.dumps([request.messages, request.max_tokens, request.temperature, request.top_p,
                          sorted(request.logit_bias.items()), request.top_logprobs, request.frequency_penalty])
        chunks = groups.setdefault(key, [[]])
        if len(chunks[-1]) == most:
            chunks.append([])
        chunks[-1].append(index)
    return [chunk for chunks in groups.values() for chunk in chunks]


def split_usage(
    texts: list[str], prompt_tokens: int, completion_tokens: int, top_logprobs: list[tuple] | None = None
) -> list[Completion]:
    """One Completion per choice of a request: the prompt, paid once, is counted on the first; the completion
    tokens are shared out evenly (the API reports only their total). `top_logprobs`: each choice's first-token
    log-probabilities."""
    share, extra = divmod(completion_tokens, len(texts))
    tops = top_logprobs or [()] * len(texts)
    return [Completion(text, [], prompt_tokens if i == 0 else 0, share + (1 if i < extra else 0), top)
            for i, (text, top) in enumerate(zip(texts, tops))]


def completion_logprobs(logprobs: Any) -> tuple[tuple[str, float], ...]:
    """(token, log-probability) of the first token's likeliest tokens from a /completions choice's `logprobs`:
    OpenAI's `top_logprobs` (one {token: log-probability} per position), or the chat form llama.cpp's server
    gives there."""
    data = logprobs.model_dump() if logprobs is not None else {}
    positions = data.get("top_logprobs") or []
    if positions:
        return tuple((token, float(value)) for token, value in (positions[0] or {}).items())
    return first_token_logprobs(data)


class OpenAIBackend(Backend):
    """Completions from an OpenAI-compatible API, chat or plain.

    base_url: one URL, or several comma-separated that share the requests (and stand in for each other on
    retries). api: "chat" (/chat/completions) or "completions" (/completions, the messages joined into one
    prompt). api_key_env: the variable holding the key ("none" is sent when it is unset, for local servers).
    count_tokens: tokenize completions (see `tokenizer`), for logit suppression.
    requests_per_minute / tokens_per_minute: client-side limits (tokens estimated by `estimated_tokens`).
    """

    name = "openai"

    def __init__(
        self,
        model: str | None,
        base_url: str | None = None,
        *,
        api: str = "chat",
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        max_retries: int = 6,
        timeout: float = 120.0,
        count_tokens: bool = False,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        if not model:
            raise ValueError("model: the openai backend needs the served model's name, e.g. --model gpt-4o-mini.")
        if api not in APIS:
            raise ValueError(f"api: must be one of {APIS}; got {api!r}.")
        self.model = model
        self.api = api
        self.name = "openai" if api == "chat" else "openai-completions"  # in cache keys: the two answer differently
        self.n_allowed = True  # until a server answers a request for n choices with fewer
        self.base_urls = [url.strip().rstrip("/") for url in (base_url or OPENAI_URL).split(",") if url.strip()]
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.count_tokens = count_tokens
        self.per_request = RateLimit(requests_per_minute) if requests_per_minute else None
        self.per_token = RateLimit(tokens_per_minute) if tokens_per_minute else None
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._tokenizer: Tokenizer | None = None
        self._content = ContentTokens(self._decode_one)

    @property
    def model_id(self) -> str:
        """The served model's name: the same model on any server shares cache entries; no URL, no key."""
        return self.model

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Completion | RequestFailure]]:
        """Runs the requests concurrently in a worker thread's event loop; yields each as it finishes."""
        if self.count_tokens:
            self.tokenizer()  # no tokenizer, no suppression: say so before any request
        results: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                asyncio.run(self._run_all(requests, results))
            except BaseException as err:  # noqa: BLE001 (handed to the caller instead of hanging it)
                results.put((None, err))

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        for _ in range(len(requests)):
            index, outcome = results.get()
            if index is None:
                raise outcome
            if isinstance(outcome, Completion) and self.count_tokens:
                outcome = Completion(outcome.text, self.content_tokens(outcome.text), outcome.prompt_tokens,
                                     outcome.completion_tokens)
            yield index, outcome
        worker.join()

    async def _run_all(self, requests: Sequence[Request], results: queue.Queue) -> None:
        import openai

        api_key = os.environ.get(self.api_key_env) or "none"
        clients = [openai.AsyncOpenAI(base_url=url, api_key=api_key, max_retries=0, timeout=self.timeout)
                   for url in self.base_urls]
        slots = asyncio.Semaphore(self.max_concurrency)

        async def one(indices: list[int]) -> None:
            async with slots:
                outcomes = await self._choices(clients, indices, requests[indices[0]])
            for index, outcome in zip(indices, outcomes):
                results.put((index, outcome))

        groups = same_prompt_groups(requests, MAX_CHOICES if self.n_allowed else 1)
        try:
            await asyncio.gather(*(one(group) for group in groups))
        finally:
            for client in clients:
                await client.close()

    async def _choices(self, clients: list[Any], indices: list[int], request: Request) -> list[Completion | RequestFailure]:
        """One outcome per index, all for the same prompt: one call with n = len(indices) choices; when the
        server gives fewer, the rest are asked for one by one, and n is not used again."""
        if self.per_request:
            await self.per_request.wait()
        if self.per_token:
            await self.per_token.wait(estimated_tokens(request, len(indices)))
        outcome = await self._with_retries(clients, indices[0], request, len(indices))
        if isinstance(outcome, RequestFailure):
            return [outcome] * len(indices)
        if len(outcome) < len(indices):
            if self.n_allowed:
                logger.info("The server at %s gives one choice per request; n is not used.", self.base_urls[0])
            self.n_allowed = False
            for index in indices[len(outcome):]:
                outcome += await self._choices(clients, [index], request)
        return outcome

    async def _with_retries(
        self, clients: list[Any], index: int, request: Request, n: int
    ) -> list[Completion] | RequestFailure:
        """The completions, trying the servers in turn; a RequestFailure once the retries are spent."""
        failure = RequestFailure("connection")
        for attempt in range(self.max_retries + 1):
            client = clients[(index + attempt) % len(clients)]
            try:
                return await self._complete(client, request, n)
            except Exception as err:  # noqa: BLE001 (every error is sorted into retry or fail below)
                failure, retry, wait = self._classify(err, str(client.base_url))
                if not retry:
                    return failure
            if attempt < self.max_retries:
                await asyncio.sleep(wait if wait is not None else self._delay(attempt))
        return failure

    def _classify(self, err: Exception, url: str) -> tuple[RequestFailure, bool, float | None]:
        """What went wrong at the server at `url`, whether to retry, and the server's Retry-After in seconds when
        it gave one."""
        import openai

        detail = f"{url}: {str(err)[:300]}"
        if isinstance(err, openai.APITimeoutError):
            return RequestFailure("timeout", detail), True, None
        if isinstance(err, openai.APIConnectionError):
            return RequestFailure("connection", detail), True, None
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            wait = _retry_after(err.response.headers.get("retry-after"))
            if status == 429:
                return RequestFailure("rate_limited", detail), True, wait
            if status >= 500:
                return RequestFailure("server_error", detail), True, wait
            return RequestFailure(f"http_{status}", detail), False, None
        return RequestFailure("bad_response", detail), False, None

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter: up to backoff · 2^attempt seconds, capped."""
        return random.uniform(0.5, 1.0) * min(self.max_backoff, self.backoff * 2**attempt)

    async def _complete(self, client: Any, request: Request, n: int) -> list[Completion]:
        """One call; a completion per choice the server gave (n asked for, n omitted when 1)."""
        options: dict[str, Any] = {"n": n} if n > 1 else {}
        if request.logit_bias:
            options["logit_bias"] = {str(k): v for k, v in request.logit_bias.items()}
        if request.frequency_penalty:
            options["frequency_penalty"] = request.frequency_penalty
        common = dict(model=self.model, max_tokens=request.max_tokens, temperature=request.temperature,
                      top_p=request.top_p, seed=request.seed, **options)
        top = request.top_logprobs
        if self.api == "chat":
            logprobs = {"logprobs": True, "top_logprobs": top} if top else {}
            response = await client.chat.completions.create(messages=request.messages, **common, **logprobs)
            texts = [choice.message.content or "" for choice in response.choices]
            tops = [first_token_logprobs(choice.logprobs.model_dump() if choice.logprobs else None)
                    for choice in response.choices]
        else:
            logprobs = {"logprobs": top} if top else {}
            response = await client.completions.create(prompt=completion_prompt(request.messages), **common, **logprobs)
            texts = [choice.text or "" for choice in response.choices]
            tops = [completion_logprobs(choice.logprobs) for choice in response.choices]
        if not texts:
            raise ValueError("the server answered with no choices")
        usage = response.usage  # some servers leave it out: then no tokens are counted
        return split_usage(texts, usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0, tops)

    def content_tokens(self, text: str) -> list[int]:
        """Token ids of `text` by the model's tokenizer, leaving out whitespace-only tokens."""
        return self._content(self.tokenizer()[0](text))

    def _decode_one(self, token_id: int) -> str:
        return self.tokenizer()[1](token_id)

    def tokenizer(self) -> Tokenizer:
        """(encode, decode one token id) for the served model: the server's own tokenizer where it exposes one
        (/tokenize of llama.cpp's server, /extras/tokenize of llama-cpp-python, /tokenize of vLLM), else
        tiktoken's for an OpenAI model."""
        if self._tokenizer is None:
            self._tokenizer = server_tokenizer(self._server) or self._tiktoken()
        return self._tokenizer

    def _tiktoken(self) -> Tokenizer:
        unavailable = (f"logit_suppression: the server at {self.base_urls[0]} exposes no tokenizer (/tokenize of "
                       "llama.cpp's server or vLLM, /extras/tokenize of llama-cpp-python), so the biased token ids "
                       "cannot be known")
        import tiktoken
        import tiktoken.model

        try:
            name = tiktoken.model.encoding_name_for_model(self.model)
        except KeyError:
            raise ValueError(f"{unavailable}, and tiktoken does not know the model {self.model!r}; set "
                             "logit_suppression=0 or serve the model with one of those.") from None
        try:
            encoding = tiktoken.get_encoding(name)
        except Exception as err:  # noqa: BLE001 (any failure to fetch or read the encoding file)
            raise ValueError(
                f"{unavailable}, and tiktoken could not load {name!r} for {self.model!r} ({type(err).__name__}); "
                "tiktoken downloads it once from openaipublic.blob.core.windows.net and keeps it in "
                "TIKTOKEN_CACHE_DIR: allow that download, copy the file there, or set logit_suppression=0."
            ) from None
        return encoding.encode, lambda token_id: encoding.decode([token_id])

    def _server(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST to the server (outside /v1): the status and the JSON answer ({} for an error status)."""
        root = self.base_urls[0].removesuffix("/v1")
        headers = {"Authorization": f"Bearer {os.environ.get(self.api_key_env) or 'none'}"}
        try:
            return post_json(root + path, {"model": self.model, **body}, headers, self.timeout)
        except OSError as err:  # refused, reset, timed out
            raise BackendUnavailable(f"the server at {root} did not answer {path} ({err}); the requests "
                                     "finished before are in the request cache: run again once it is up.") from err


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds; None when absent or a date."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
