"""Faults of the file system and interrupts, on real file systems and real processes: the output holds its
previous complete state or nothing, the message names the path and the option, and a rerun loses nothing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from hf_llmgen.filesystem import FileSystemFault, check_writable, fault_of
from hf_llmgen.staging import staged, write_json

from test_cli_e2e import finished_requests, start_interruptible


def _mount_tmpfs(path, *options):
    os.makedirs(path)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=1m", *options)), "tmpfs", str(path)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    return path


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, unmounted afterwards."""
    yield _mount_tmpfs(tmp_path / "small")
    subprocess.run(["umount", str(tmp_path / "small")], check=True)


@pytest.fixture
def read_only(tmp_path):
    yield _mount_tmpfs(tmp_path / "ro", "ro")
    subprocess.run(["umount", str(tmp_path / "ro")], check=True)


def _fill(folder):
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass


def test_staged_entries_replace_the_old_ones_and_keep_the_rest(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("train", "removed", "human_labels.jsonl"):
        (out / name).write_text("old")
    with staged(str(out), "--output", owned=["train", "removed"]) as folder:
        (open(os.path.join(folder, "train"), "w")).write("new")
        write_json(os.path.join(folder, "summary.json"), {"rows": 1})
    assert (out / "train").read_text() == "new" and json.loads((out / "summary.json").read_text()) == {"rows": 1}
    assert not (out / "removed").exists(), "an owned entry this run did not write is removed"
    assert (out / "human_labels.jsonl").read_text() == "old", "entries the command does not own stay"
    assert sorted(os.listdir(out)) == ["human_labels.jsonl", "summary.json", "train"]


def test_a_failure_while_staging_leaves_the_previous_state(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train").write_text("old")
    with pytest.raises(RuntimeError):
        with staged(str(out), "--output", owned=["train"]) as folder:
            (open(os.path.join(folder, "train"), "w")).write("half")
            raise RuntimeError("killed mid-write")
    assert os.listdir(out) == ["train"] and (out / "train").read_text() == "old"
    with pytest.raises(RuntimeError):
        with staged(str(tmp_path / "new"), "--output"):
            raise RuntimeError("killed mid-write")
    assert not (tmp_path / "new").exists(), "a folder the failed write made is removed"


def test_a_staging_folder_of_a_killed_process_is_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".partial-{dead.stdout.strip()}-abc"
    stale.mkdir()
    with staged(str(tmp_path), "--output") as folder:
        open(os.path.join(folder, "x"), "w").write("x")
    assert sorted(os.listdir(tmp_path)) == ["x"]


def test_a_full_disk_while_writing_keeps_the_previous_output(small_disk):
    out = small_disk / "out"
    out.mkdir()
    (out / "train").write_text("the previous run")
    _fill(small_disk)
    with pytest.raises(FileSystemFault, match="--output: cannot write .*No space left on device.*free some space"):
        with staged(str(out), "--output", owned=["train"]) as folder:
            with open(os.path.join(folder, "train"), "wb") as f:
                f.write(b"\0" * 2**20)
    assert os.listdir(out) == ["train"] and (out / "train").read_text() == "the previous run"


def test_unwritable_locations_are_named_with_their_option(tmp_path, read_only, small_disk):
    with pytest.raises(FileSystemFault, match="--cache-dir: cannot write .* read-only file system; point --cache"):
        check_writable(str(read_only / "cache"), "--cache-dir")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileSystemFault, match="--output: .*Not a directory.*a file stands where a folder is needed"):
        check_writable(str(tmp_path / "file" / "out"), "--output")
    with pytest.raises(FileSystemFault, match=r"KiB free, the run needs about 2048 KiB"):
        check_writable(str(small_disk / "out"), "--output", needed_bytes=2 * 2**20)
    check_writable(str(tmp_path / "new" / "out"), "--output", needed_bytes=1)
    assert not (tmp_path / "new").exists(), "the check makes nothing"


def _cli(*args):
    return [sys.executable, "-m", "hf_llmgen.cli", *args]


@pytest.mark.slow
def test_cli_faults_end_in_one_line_before_any_model_loads(tmp_path, read_only):
    env = {**os.environ, "HF_DATASETS_CACHE": "/dev/null/cache"}
    result = subprocess.run(_cli("generate", "sst2", "--num-examples", "4", "--output", str(tmp_path / "o")),
                            capture_output=True, text=True, env=env)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert "HF_DATASETS_CACHE (or --cache-dir): cannot write /dev/null/cache (Not a directory)" in result.stderr
    result = subprocess.run(_cli("generate", "sst2", "--num-examples", "4", "--output", str(read_only / "o"),
                                 "--cache-dir", str(tmp_path / "c")), capture_output=True, text=True)
    assert result.returncode == 3 and "--output: cannot write" in result.stderr and "read-only" in result.stderr
    assert finished_requests(tmp_path / "c") == 0


@pytest.mark.slow
def test_ctrl_c_mid_run_says_what_is_kept_and_the_rerun_resumes(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = ("generate", "sst2", "--num-examples", "12", "--batch-size", "2", "--max-new-tokens", "40", "--output",
            str(out), "--cache-dir", str(cache))
    run = start_interruptible(_cli(*args), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while finished_requests(cache) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    assert run.wait(timeout=30) == 130
    assert time.monotonic() - stopped < 5  # at once: requests in flight are not waited for
    err = run.stderr.read()
    assert "Traceback" not in err and not out.exists()
    finished = finished_requests(cache)
    assert f"interrupted: the request cache ({cache}" in err and f"holds {finished} finished requests" in err
    assert f"run again: hf-llmgen {' '.join(args)}" in err
    subprocess.run(_cli(*args), check=True, capture_output=True)
    summary = json.loads((out / "generation_summary.json").read_text())
    assert summary["rows"] == 12 and summary["cached_requests"] == finished


def test_an_os_error_is_named_by_the_location_that_holds_its_file(tmp_path):
    full = OSError(28, "No space left on device", str(tmp_path / "cache" / "requests.sqlite"))
    fault = fault_of(full, {str(tmp_path / "out"): "--output", str(tmp_path / "cache"): "--cache-dir"})
    assert str(fault).startswith(f"--cache-dir: cannot write {tmp_path}/cache/requests.sqlite (No space left")
    bare = OSError("Not enough disk space. Needed: 2 GiB")
    assert str(fault_of(bare, {}, fallback=("/c", "HF_DATASETS_CACHE"))).startswith(
        "HF_DATASETS_CACHE: cannot write /c (Not enough disk space. Needed: 2 GiB); point HF_DATASETS_CACHE at")
    assert str(fault_of(bare, {})) == "a file: Not enough disk space. Needed: 2 GiB; check that path and run again."
