"""An LLM server's own tokenizer, through its tokenize and detokenize routes: llama.cpp's server (which the
local engine is too), llama-cpp-python's and vLLM's."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Callable

Post = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]  # (path, JSON body) -> (status, JSON answer)
Tokenizer = tuple[Callable[[str], list[int]], Callable[[int], str]]  # (encode a text, decode one token id)

ROUTES = (  # tokenize path, its text field, fields it also takes, detokenize path, its ids field, answer's text field
    ("/tokenize", "content", {"parse_special": False}, "/detokenize", "tokens", "content"),  # llama.cpp's server
    ("/extras/tokenize", "input", {}, "/extras/detokenize", "tokens", "text"),  # llama-cpp-python
    ("/tokenize", "prompt", {}, "/detokenize", "tokens", "prompt"),  # vLLM
)


def post_json(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> tuple[int, dict[str, Any]]:
    """POST a JSON body: the status and the JSON answer ({} for an error status). Raises OSError when the
    server does not answer."""
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, {}


def server_tokenizer(post: Post) -> Tokenizer | None:
    """The first of ROUTES the server answers with tokens; None when it exposes no tokenizer."""
    for tokenize, field, extra, detokenize, ids_field, text_field in ROUTES:
        status, answer = post(tokenize, {field: "a", **extra})
        if status == 200 and answer.get("tokens"):
            return _routes(post, tokenize, field, extra, detokenize, ids_field, text_field)
    return None


def _routes(post: Post, tokenize: str, field: str, extra: dict[str, Any], detokenize: str, ids_field: str,
            text_field: str) -> Tokenizer:
    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, reply = post(path, body)
        if status != 200:
            raise RuntimeError(f"the server answered {path} with status {status}.")
        return reply

    return (lambda text: list(answer(tokenize, {field: text, **extra})["tokens"]),
            lambda token_id: answer(detokenize, {ids_field: [token_id]})[text_field])
