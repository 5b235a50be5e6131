"""The installed package: every module imports, and every package its code imports is a declared dependency
(so the README's install brings it), or the standard library."""

import ast
import importlib
import importlib.metadata
import pathlib
import pkgutil
import re
import sys

import hf_llmgen


def modules() -> list[str]:
    return [module.name for module in pkgutil.walk_packages(hf_llmgen.__path__, "hf_llmgen.")]


def imported_packages() -> dict[str, str]:
    """Top-level package -> a module of hf_llmgen that imports it (at module level or inside a function)."""
    found = {}
    for path in pathlib.Path(hf_llmgen.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update({alias.name.split(".")[0]: path.name for alias in node.names})
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found[node.module.split(".")[0]] = path.name
    return found


def declared() -> set[str]:
    """The normalised names of hf-llmgen's required (not extra) dependencies, from the installed metadata."""
    names = set()
    for requirement in importlib.metadata.requires("hf-llmgen") or []:
        if "extra ==" not in requirement:
            names.add(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_every_module_imports():
    names = modules()
    assert "hf_llmgen.backends.local" in names and "hf_llmgen.serve" in names
    for name in names:
        importlib.import_module(name)


def test_every_imported_package_is_a_declared_dependency():
    providers = importlib.metadata.packages_distributions()
    needed = {name: where for name, where in imported_packages().items()
              if name != "hf_llmgen" and name not in sys.stdlib_module_names}
    assert "xllamacpp" in needed and "sentence_transformers" in needed
    undeclared = {name: where for name, where in needed.items()
                  if not {p.lower().replace("_", "-") for p in providers.get(name, [])} & declared()}
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"
