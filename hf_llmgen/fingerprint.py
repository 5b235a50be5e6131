"""A short, cheap fingerprint of a weights file: it changes when the weights do, and holds no secret."""

from __future__ import annotations

import hashlib
import os


def weights_fingerprint(path: str, name: str | None = None) -> str:
    """`name` (default: the file name) and a hash of the file's size and first MiB."""
    digest = hashlib.sha256(str(os.path.getsize(path)).encode())
    with open(path, "rb") as f:
        digest.update(f.read(1 << 20))
    return f"{name or os.path.basename(path)}:{digest.hexdigest()[:12]}"
