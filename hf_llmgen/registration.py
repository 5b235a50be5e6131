"""Registers the `hf_llmgen` builder with `datasets`, so `load_dataset("hf_llmgen", ...)` finds it by name."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import datasets.load
from datasets.data_files import DataFilesDict
from datasets.load import DatasetModule
from datasets.packaged_modules import _PACKAGED_DATASETS_MODULES, _hash_python_lines

from .task import preset_names

BUILDER_NAME = "hf_llmgen"
BUILDER_MODULE = "hf_llmgen.builder"


def source_hash() -> str:
    """Hash of the package's code and presets: a change to either gives new `datasets` cache folders."""
    sources = [p.read_text("utf-8") for p in sorted(Path(__file__).parent.glob("**/*.py"))]
    presets = resources.files("hf_llmgen.builders")
    sources += [presets.joinpath(f"{name}.yaml").read_text("utf-8") for name in preset_names()]
    return _hash_python_lines([line for text in sources for line in text.splitlines()])


def register() -> None:
    """Add the builder to the packaged-module registry and resolve its name without scanning for data files.

    A packaged name normally makes `datasets` look for data files in the working directory; a generator
    reads none, so the name resolves straight to the builder module, wherever the user stands.
    """
    if BUILDER_NAME in _PACKAGED_DATASETS_MODULES:
        return
    module_hash = source_hash()
    _PACKAGED_DATASETS_MODULES[BUILDER_NAME] = (BUILDER_MODULE, module_hash)
    original = datasets.load.dataset_module_factory

    @functools.wraps(original)
    def dataset_module_factory(path, *args, **kwargs):
        if path == BUILDER_NAME:
            builder_kwargs = {"dataset_name": BUILDER_NAME, "data_files": DataFilesDict()}
            return DatasetModule(BUILDER_MODULE, module_hash, builder_kwargs)
        return original(path, *args, **kwargs)

    datasets.load.dataset_module_factory = dataset_module_factory
