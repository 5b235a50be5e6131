"""Opening the project's sqlite files (request cache, embedding cache): WAL, autocommit, safe to share."""

from __future__ import annotations

import os
import sqlite3
import time


def open_database(path: str, schema: str, attempts: int = 40) -> sqlite3.Connection:
    """Connect (creating folders and tables as needed) in WAL mode with autocommit.

    Processes opening a new file at once can meet 'database is locked' while switching to WAL, without
    sqlite's busy timeout applying, so the set-up is retried with a backoff.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
            return db
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                db.close()
                raise
            time.sleep(0.05 * (attempt + 1))
    db.close()
    raise ValueError(f"attempts: must be >= 1, got {attempts}.")
