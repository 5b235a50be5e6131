"""File-system faults in one line: the path, the option or variable that chose it, and what to do."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile

ENVIRONMENT_FAULT = 3  # the CLI's exit code for a fault of the machine, not of the input (that is 2)

_FIXES = {
    errno.ENOSPC: "free some space there, or point {option} at a disk with room",
    errno.EDQUOT: "free some space there, or point {option} at a disk with room",
    errno.EROFS: "it is on a read-only file system; point {option} at a writable folder",
    errno.EACCES: "you may not write there; point {option} at a folder you own",
    errno.EPERM: "you may not write there; point {option} at a folder you own",
    errno.ENOTDIR: "a file stands where a folder is needed; point {option} at a folder",
    errno.EEXIST: "a file stands where a folder is needed; point {option} at a folder",
}


class FileSystemFault(Exception):
    """A location the run needs cannot be written: its message names the path, the option and the fix."""

    def __init__(self, path: str, option: str | None, err: OSError) -> None:
        reason = err.strerror or str(err)
        if option is None:  # not a location the run writes: say what failed where
            super().__init__(f"{path}: {reason}; check that path and run again.")
            return
        fix = _FIXES.get(err.errno, "point {option} at a writable folder").format(option=option)
        super().__init__(f"{option}: cannot write {path} ({reason}); {fix}.")


def check_writable(path: str, option: str, needed_bytes: int = 0) -> None:
    """Raise FileSystemFault unless a file can be made in the folder `path` (or where it would be made) and
    its disk has `needed_bytes` free."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    try:
        if not os.path.isdir(existing):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), existing)
        with tempfile.TemporaryFile(dir=existing):
            pass
        free = shutil.disk_usage(existing).free
        if free < needed_bytes:
            raise OSError(errno.ENOSPC, f"{free // 1024} KiB free, the run needs about {needed_bytes // 1024} KiB")
    except OSError as err:
        raise FileSystemFault(path, option, err) from err


def fault_of(err: OSError, locations: dict[str, str], fallback: tuple[str, str] | None = None) -> FileSystemFault:
    """The fault for an OSError raised while writing, naming the option of the location (of `locations`,
    {path: option}) that holds the file it names; `fallback` (path, option) when it names none."""
    filename = os.path.abspath(str(err.filename)) if err.filename else ""
    for path, option in locations.items():
        root = os.path.abspath(path)
        if filename == root or filename.startswith(root + os.sep):
            return FileSystemFault(filename, option, err)
    if fallback is not None:
        return FileSystemFault(filename or fallback[0], fallback[1], err)
    return FileSystemFault(filename or "a file", None, err)
