"""The request cache: every finished LLM request, stored the moment it completes, keyed by all it depends on.

It also keeps the summary of the latest run of each configuration, for the CLI and the dataset card, and the
rows its label check removed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

from ..backends.base import Completion, Request
from ..sqlite import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    token_ids TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS top_logprobs (
    key TEXT PRIMARY KEY,
    logprobs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_stats (
    run_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    stats TEXT NOT NULL,
    PRIMARY KEY (run_id, shard)
);
CREATE TABLE IF NOT EXISTS removed_rows (
    run_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    position INTEGER NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (run_id, shard, position)
)
"""


def request_key(backend: str, model_id: str, request: Request) -> str:
    """A stable hash of the backend, model, prompt, every sampling parameter and the request's seed."""
    payload: dict[str, Any] = {
        "backend": backend,
        "model": model_id,
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "seed": request.seed,
        "logit_bias": sorted(request.logit_bias.items()),
    }
    if request.top_logprobs:  # only then, so that the keys of earlier caches stay as they were
        payload["top_logprobs"] = request.top_logprobs
    if request.frequency_penalty:  # likewise
        payload["frequency_penalty"] = request.frequency_penalty
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class RequestCache:
    """A sqlite table of completions; safe to share between processes and to kill at any moment."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = open_database(path, _SCHEMA)

    def get(self, key: str) -> Completion | None:
        row = self._db.execute(
            "SELECT text, token_ids, prompt_tokens, completion_tokens, logprobs FROM completions "
            "LEFT JOIN top_logprobs USING (key) WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        top = tuple((token, logprob) for token, logprob in json.loads(row[4])) if row[4] else ()
        return Completion(row[0], json.loads(row[1]), row[2], row[3], top)

    def put(self, key: str, completion: Completion) -> None:
        """Store one completion durably, its log-probabilities in the same transaction, so a crash right after
        loses nothing and a crash during it leaves nothing half-stored."""
        row = (key, completion.text, json.dumps(completion.token_ids), completion.prompt_tokens,
               completion.completion_tokens)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?)", row)
            self._db.execute("DELETE FROM top_logprobs WHERE key = ?", (key,))
            if completion.top_logprobs:
                self._db.execute("INSERT INTO top_logprobs VALUES (?, ?)", (key, json.dumps(completion.top_logprobs)))
            self._db.execute("COMMIT")
        except BaseException:  # Ctrl-C can land after COMMIT too: then there is nothing to roll back
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def put_stats(self, run_id: str, shard: int, stats: dict[str, Any]) -> None:
        """Record the summary of the latest run of one shard of a configuration."""
        self._db.execute("INSERT OR REPLACE INTO run_stats VALUES (?, ?, ?)", (run_id, shard, json.dumps(stats)))

    def get_stats(self, run_id: str) -> list[dict[str, Any]]:
        """The summaries of every shard of the latest run of a configuration."""
        rows = self._db.execute("SELECT stats FROM run_stats WHERE run_id = ? ORDER BY shard", (run_id,))
        return [json.loads(row[0]) for row in rows]

    def clear_removed(self, run_id: str, shard: int) -> None:
        """Forget the removed rows of an earlier run of this shard (a rerun removes them again)."""
        self._db.execute("DELETE FROM removed_rows WHERE run_id = ? AND shard = ?", (run_id, shard))

    def put_removed(self, run_id: str, shard: int, row: dict[str, Any]) -> None:
        """Keep a row the run removed, after those it removed before."""
        self._db.execute(
            "INSERT INTO removed_rows SELECT ?, ?, COALESCE(MAX(position) + 1, 0), ? FROM removed_rows "
            "WHERE run_id = ? AND shard = ?", (run_id, shard, json.dumps(row), run_id, shard),
        )

    def removed(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The rows the latest run of a configuration removed, shard by shard, in the order removed."""
        rows = self._db.execute("SELECT row FROM removed_rows WHERE run_id = ? ORDER BY shard, position", (run_id,))
        for (row,) in rows:
            yield json.loads(row)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        self._db.close()
