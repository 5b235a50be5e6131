"""The `hf_llmgen` datasets builder: a task and generation settings in, a labelled train split out."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import json
import logging
import os

import datasets
from datasets.builder import Key

from .backends import make_backend
from .generation.attributes import attribute_column
from .generation.cache import RequestCache
from .generation.cost import read_prices
from .generation.estimate import check_max_cost, unwise_settings
from .generation.label_check import check_llm_label_count, make_checker
from .generation.prompts import uses_attributes
from .generation.runner import GenerationRun, GenerationStats
from .generation.settings import GenerationSettings
from .interventions.labelling import read_human_labels
from .interventions.relabel import check_human_labels
from .task import load_task, preset_names, read_targets

REQUEST_CACHE_FILE = os.path.join("hf_llmgen_requests", "requests.sqlite")
EMBEDDING_CACHE_FILE = os.path.join("hf_llmgen_embeddings", "embeddings.sqlite")
logger = logging.getLogger(__name__)


@dataclasses.dataclass
class LLMGenConfig(datasets.BuilderConfig, GenerationSettings):
    """BuilderConfig for hf_llmgen: the generation settings (see `GenerationSettings`) plus a config name."""


class LLMGen(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = LLMGenConfig
    BUILDER_CONFIGS = [LLMGenConfig(name=name, task=name) for name in preset_names()]

    def _create_builder_config(self, config_name=None, custom_features=None, config_id=None, **config_kwargs):
        """Resolve the task, the prices and the human labels to their content (so the cache key follows them)
        and validate every option."""
        check_option_names(config_kwargs)
        task = config_kwargs.get("task")
        if task is not None and config_name is not None:
            raise ValueError(f"task: give either a preset name ({config_name!r}) or task=..., not both.")
        if task is not None or config_name is not None:
            config_kwargs["task"] = load_task(task if task is not None else config_name).to_dict()
        if config_kwargs.get("targets") is not None and config_kwargs.get("task") is not None:
            spec = load_task(config_kwargs["task"])
            targets = read_targets(config_kwargs.pop("targets"), spec.label_names)
            config_kwargs["task"] = dataclasses.replace(spec, targets=targets).to_dict()
        if config_kwargs.get("prices") is not None:
            config_kwargs["prices"] = read_prices(config_kwargs["prices"])
        if isinstance(config_kwargs.get("human_labels"), str):
            config_kwargs["human_labels"] = read_human_labels(config_kwargs["human_labels"])
        config, config_id = super()._create_builder_config(config_name, custom_features, config_id, **config_kwargs)
        spec = load_task(config.task)
        check_settings(config, spec)
        for note in unwise_settings(config, spec):
            logger.warning(note)
        return config, config_id

    def _info(self) -> datasets.DatasetInfo:
        task = load_task(self.config.task)
        labels = datasets.ClassLabel(names=task.label_names)
        if task.multi_label:
            label_columns = {"labels": datasets.List(labels), "prompted_labels": datasets.List(labels)}
        else:
            label_columns = {"label": labels, "prompted_label": labels}
        features = datasets.Features(
            {
                "text": datasets.Value("string"),
                **label_columns,
                "prompt_style": datasets.Value("string"),
                "in_context_examples": datasets.List(datasets.Value("string")),
                "backend": datasets.Value("string"),
                "model": datasets.Value("string"),
                "temperature": datasets.Value("float64"),
                "logit_suppression": datasets.Value("float64"),
                "round": datasets.Value("int32"),
                "shard": datasets.Value("int32"),
                "request_seed": datasets.Value("int64"),
                "request_key": datasets.Value("string"),
                "candidate_index": datasets.Value("int32"),
            }
        )
        if self.config.label_check != "none":
            features.update({"label_check": datasets.Value("string"), "label_check_score": datasets.Value("float64")})
        if self.config.prompt == "targeted":
            features.update({name: datasets.Value("string") for name in ("hypothesis", "target_label", "mistaken_for")})
        if uses_attributes(self.config.prompt, task):
            features.update({attribute_column(a.name): datasets.Value("string") for a in task.attributes})
        return datasets.DatasetInfo(description=task.description, features=features)

    def _split_generators(self, dl_manager):
        shards = list(range(self.config.num_shards))
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"shards": shards})]

    def _generate_examples(self, shards: list[int]):
        task = load_task(self.config.task)
        backend = make_backend(self.config)
        cache = open_request_cache(self)
        try:
            checker = make_checker(self.config, task, backend, cache,
                                   os.path.join(self._cache_dir_root, EMBEDDING_CACHE_FILE))
            for shard in shards:
                cache.clear_removed(self.config_id, shard)
                removed = functools.partial(cache.put_removed, self.config_id, shard)
                run = GenerationRun(self.config, task, backend, cache, shard, checker, removed)
                for index, row in enumerate(run.rows()):
                    yield Key(shard, index), row
                cache.put_stats(self.config_id, shard, run.stats.to_dict())
        finally:
            backend.close()
            cache.close()


def check_option_names(options: dict) -> None:
    """Raise ValueError naming an unknown option, with the closest known one and the list of options."""
    known = [f.name for f in dataclasses.fields(LLMGenConfig)]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"{name}: not an option of hf_llmgen; {hint}the options are "
                             f"{', '.join(f.name for f in dataclasses.fields(GenerationSettings))}.")


def check_settings(settings: GenerationSettings, task) -> None:
    """Raise ValueError for an option that is invalid or does not fit the task: every check made before any LLM
    call."""
    settings.validate()
    check_label_options(settings, task)
    check_prompt(settings, task)
    check_max_cost(settings, task)


def check_label_options(settings: GenerationSettings, task) -> None:
    """The label-check options fit the task: the proxy's human labels name its labels, `relabel` needs one
    label per row."""
    if settings.label_check == "proxy":
        check_human_labels(list(settings.human_labels.values()), task.label_names)
    if settings.label_check == "llm":
        check_llm_label_count(task)
    if settings.label_policy == "relabel" and task.multi_label:
        raise ValueError("label_policy: 'relabel' gives a row the checker's one label, so it works for single-label "
                         "tasks only; use 'keep' or 'drop' for a multi-label task.")


def check_prompt(settings: GenerationSettings, task) -> None:
    """The prompt style has what it needs: `attributes` the task's attributes, `targeted` targets to write for,
    on a single-label task; targets come with that prompt."""
    if settings.prompt == "attributes" and not task.attributes:
        raise ValueError("prompt: 'attributes' needs attributes in the task spec; add them (or draft them with "
                         "`hf-llmgen attributes suggest TASK`), or pick another prompt style.")
    if settings.prompt == "targeted" and not task.targets:
        raise ValueError("prompt: 'targeted' writes texts for a classifier's blind spots; give them with targets=... "
                         "(a hypotheses file from `hf-llmgen target`, or a list of {label, hypothesis}).")
    if settings.prompt == "targeted" and task.multi_label:
        raise ValueError("prompt: 'targeted' works for single-label tasks only; this task is multi-label.")
    if task.targets and settings.prompt != "targeted":
        raise ValueError(f"targets: they are read by prompt='targeted' only, and the prompt is {settings.prompt!r}; "
                         "set prompt='targeted', or leave the targets out.")


def open_request_cache(builder: datasets.DatasetBuilder) -> RequestCache:
    """The request cache, kept in the datasets cache folder the builder uses."""
    return RequestCache(os.path.join(builder._cache_dir_root, REQUEST_CACHE_FILE))


def generation_summary(builder: LLMGen) -> GenerationStats:
    """What the latest run of this builder's configuration did, summed over its shards."""
    cache = open_request_cache(builder)
    try:
        total = GenerationStats()
        for shard_stats in cache.get_stats(builder.config_id):
            total.add(GenerationStats.from_dict(shard_stats))
        return total
    finally:
        cache.close()


def removed_rows(builder: LLMGen) -> datasets.Dataset | None:
    """The rows the latest run of this builder's configuration removed (its `drop` policy's off-label rows),
    with the train split's columns; None when it removed none."""
    cache = open_request_cache(builder)
    digest, count = hashlib.sha256(), 0
    try:
        for count, row in enumerate(cache.removed(builder.config_id), start=1):
            digest.update(json.dumps(row, sort_keys=True).encode("utf-8"))
    finally:
        cache.close()
    if count == 0:
        return None
    kwargs = {"path": cache.path, "run_id": builder.config_id, "content": digest.hexdigest()}
    return datasets.Dataset.from_generator(_removed, features=builder.info.features, gen_kwargs=kwargs)


def _removed(path: str, run_id: str, content: str):
    """The removed rows of a run; `content` (their digest) only keys the `datasets` cache, so that new removed
    rows of the same run are not served from an older copy."""
    cache = RequestCache(path)
    try:
        yield from cache.removed(run_id)
    finally:
        cache.close()
