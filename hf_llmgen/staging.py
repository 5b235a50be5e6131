"""Outputs that appear whole or not at all: a command writes its files into a hidden staging folder inside the
output folder, and they replace the folder's entries of the same names only once every one is written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .filesystem import FileSystemFault

STAGING_PREFIX = ".partial-"


@contextmanager
def staged(folder: str, option: str, owned: Iterable[str] = ()) -> Iterator[str]:
    """Yield a staging folder inside `folder` (made if missing) to write entries into. When the block completes,
    each staged entry replaces the entry of that name in `folder`, and the names in `owned` that were not
    staged are removed from it (an earlier run's output that this run has none of). When it raises, `folder`
    is left as it was, and removed again if this call made it; an OSError becomes a FileSystemFault naming
    `option`, the option that chose `folder`. Other entries of `folder` (a labels file) stay."""
    made = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    _remove_stale(folder)
    staging = tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=folder)
    try:
        yield staging
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(err, OSError):
            raise FileSystemFault(folder, option, err) from err
        raise
    _move_into_place(staging, folder, set(owned))
    shutil.rmtree(staging, ignore_errors=True)


def _remove_stale(folder: str) -> None:
    """Remove the staging folders that killed runs left in `folder` (their process is gone)."""
    for name in os.listdir(folder):
        pid = name[len(STAGING_PREFIX):].split("-")[0]
        if name.startswith(STAGING_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _move_into_place(staging: str, folder: str, owned: set[str]) -> None:
    """Swap each staged entry into `folder`; the entries replaced or removed go into `staging`, removed with it."""
    old = os.path.join(staging, STAGING_PREFIX + "old")
    os.mkdir(old)
    new = {name for name in os.listdir(staging) if not name.startswith(STAGING_PREFIX)}
    for name in sorted(name for name in owned | new if not name.startswith(STAGING_PREFIX)):
        if os.path.lexists(os.path.join(folder, name)):
            os.replace(os.path.join(folder, name), os.path.join(old, name))
        if name in new:
            os.replace(os.path.join(staging, name), os.path.join(folder, name))


@contextmanager
def staged_file(path: str) -> Iterator[str]:
    """Yield a temporary sibling of `path` to write; it becomes `path` when the block completes, so `path` is
    whole or as it was."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = f"{path}{STAGING_PREFIX}{os.getpid()}"
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def write_json(path: str, data: dict[str, Any]) -> None:
    """Write `data` to `path` as indented JSON, whole or not at all."""
    with staged_file(path) as partial, open(partial, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
