"""`hf-llmgen`: the command line, mirroring the Python API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing
from collections import Counter
from dataclasses import fields
from typing import Any, Sequence

import datasets

from .backends import make_backend
from .builder import generation_summary
from .cards import dataset_card
from .generation.settings import GenerationSettings
from .metrics import EmbeddingCache, measure
from .metrics.figure import plot_quality
from .metrics.pairwise import METRICS
from .metrics.report import label_names
from .registration import BUILDER_NAME
from .task import TaskSpecError, load_task, preset_names


def _flag_type(name: str) -> type:
    """The argparse type for a settings field: int, float or str (Optional[...] unwrapped)."""
    hint = typing.get_type_hints(GenerationSettings)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    return args[0] if args[0] in (int, float) else str


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per generation setting, named like the field: num_examples -> --num-examples."""
    for f in fields(GenerationSettings):
        if f.name != "task":
            flag = "--" + f.name.replace("_", "-")
            help_text = f"{f.metadata['help']} (default: {f.default})"
            parser.add_argument(flag, dest=f.name, type=_flag_type(f.name), default=None, help=help_text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hf-llmgen", description="Generate labelled text-classification data.")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="generate a dataset and write it with its card and summary")
    gen.add_argument("task", help=f"a preset ({', '.join(preset_names())}) or a task YAML file")
    gen.add_argument("--output", required=True, help="folder to write the dataset, README.md and summary into")
    gen.add_argument("--format", choices=("arrow", "parquet"), default="arrow", help="arrow = save_to_disk layout")
    gen.add_argument("--cache-dir", default=None, help="datasets cache folder (the request cache lives there too)")
    _add_settings_flags(gen)

    mea = commands.add_parser("measure", help="print diversity, similarity and label metrics of a dataset")
    mea.add_argument("dataset", help="a generate --output folder, a save_to_disk folder, or a jsonl/csv/parquet file")
    mea.add_argument("--reference", help="real data to compare with (same kinds of path)")
    mea.add_argument("--metric", choices=METRICS, default="cosine", help="distance for diversity and similarity")
    mea.add_argument("--text-column", default="text")
    mea.add_argument("--label-column", default="label", help="'' to skip the label metrics")
    mea.add_argument("--embedding-model", default=None, help="sentence-transformers name or folder")
    mea.add_argument("--oracle", help="text-classification model (name or folder) to measure label accuracy with")
    mea.add_argument("--label-map", type=_label_map, help="oracle labels to dataset labels: POS=positive,NEG=negative")
    mea.add_argument("--figure", help="write a PNG here: embedding map beside the reference's, per-class bars")
    mea.add_argument("--output", help="write the metrics as JSON here too")

    tra = commands.add_parser("train", help="fine-tune a classifier on a dataset with Trainer, evaluate on real data")
    tra.add_argument("dataset", help="the training data (same kinds of path as measure)")
    tra.add_argument("--output", required=True, help="folder for the model, its card and eval_results.json")
    tra.add_argument("--eval", dest="eval_data", help="real labelled data to evaluate on (and measure similarity to)")
    tra.add_argument("--model", help="model name or folder (default: packaged all-MiniLM-L6-v2 + a new head)")
    tra.add_argument("--oracle", help="text-classification model for the data-quality label accuracy")
    tra.add_argument("--epochs", type=float, default=3.0)
    tra.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (overrides --epochs)")
    tra.add_argument("--batch-size", type=int, default=16)
    tra.add_argument("--learning-rate", type=float, default=5e-5)
    tra.add_argument("--seed", type=int, default=0)
    tra.add_argument("--text-column", default="text")
    tra.add_argument("--label-column", default="label")
    tra.add_argument("--report-to", default="none", help="Trainer integrations: tensorboard, wandb, ... or all")
    return parser


def _label_map(value: str) -> dict[str, str]:
    """'POS=positive,NEG=negative' -> {'POS': 'positive', 'NEG': 'negative'}."""
    pairs = [item.split("=", 1) for item in value.split(",") if item]
    if not all(len(pair) == 2 for pair in pairs):
        raise argparse.ArgumentTypeError(f"--label-map: {value!r} is not ORACLE=DATASET pairs joined by commas.")
    return dict(pairs)


def generate_command(args: argparse.Namespace) -> dict[str, Any]:
    """Generate through the `hf_llmgen` builder, then write the dataset, its card and the run summary."""
    options = {
        f.name: getattr(args, f.name)
        for f in fields(GenerationSettings)
        if f.name != "task" and getattr(args, f.name) is not None
    }
    name, task_argument = (args.task, args.task) if args.task in preset_names() else (None, args.task)
    extra = {} if name else {"task": os.path.abspath(args.task)}
    builder = datasets.load_dataset_builder(BUILDER_NAME, name, cache_dir=args.cache_dir, **extra, **options)
    reused = os.path.exists(os.path.join(builder.cache_dir, "dataset_info.json"))
    builder.download_and_prepare()
    dataset = builder.as_dataset(split="train")

    summary = generation_summary(builder).to_dict()
    label_ids = Counter(dataset["label"])
    summary["rows_per_label"] = {name: label_ids[i] for i, name in enumerate(dataset.features["label"].names)}
    summary["served_from_datasets_cache"] = reused

    os.makedirs(args.output, exist_ok=True)
    if args.format == "parquet":
        dataset.to_parquet(os.path.join(args.output, "train.parquet"))
    else:
        dataset.save_to_disk(os.path.join(args.output, "train"))
    task = load_task(builder.config.task)
    model_id = make_backend(builder.config).model_id
    card = dataset_card(task, builder.config, task_argument, model_id, summary)
    card.save(os.path.join(args.output, "README.md"))
    with open(os.path.join(args.output, "generation_summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    return summary


def load_any(path: str) -> datasets.Dataset:
    """A dataset from a generate --output folder, a save_to_disk folder, or a jsonl/json/csv/parquet file."""
    if os.path.isdir(path):
        for inner in (path, os.path.join(path, "train")):
            if os.path.exists(os.path.join(inner, "state.json")):
                return datasets.load_from_disk(inner)
        if os.path.exists(os.path.join(path, "train.parquet")):
            return datasets.Dataset.from_parquet(os.path.join(path, "train.parquet"))
        raise ValueError(f"dataset: {path} holds no saved dataset (no state.json or train.parquet).")
    builders = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
    kind = builders.get(os.path.splitext(path)[1])
    if kind is None or not os.path.isfile(path):
        raise ValueError(f"dataset: {path} is not a folder or a .jsonl/.json/.csv/.parquet file.")
    return datasets.load_dataset(kind, data_files=path, split="train")


def measure_command(args: argparse.Namespace) -> dict[str, Any]:
    """Measure a dataset, print a table, and write JSON when asked."""
    dataset = load_any(args.dataset)
    reference = load_any(args.reference) if args.reference else None
    label_column = args.label_column or None
    cache = EmbeddingCache(args.embedding_model)
    result = measure(
        dataset, reference, text_column=args.text_column, label_column=label_column,
        metric=args.metric, embeddings=cache, oracle=args.oracle, label_map=args.label_map,
    )
    if args.figure:
        _figure(args.figure, dataset, reference, result, cache, args.text_column, label_column)
    cache.close()
    for name, value in result.items():
        if not isinstance(value, dict):
            print(f"{name:32} {value:.4f}" if isinstance(value, float) else f"{name:32} {value}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


def _figure(path: str, dataset, reference, result, cache: EmbeddingCache, text_column: str, label_column) -> None:
    """The measure figure, from the cached embeddings; reference points are coloured by label when it has them."""
    labels = label_names(dataset, label_column)[0] if label_column else None
    has_labels = reference is not None and label_column and label_column in reference.column_names
    plot_quality(
        path, cache.embed(dataset[text_column]), labels, result,
        reference=cache.embed(reference[text_column]) if reference is not None else None,
        reference_labels=label_names(reference, label_column)[0] if has_labels else None,
    )


def train_command(args: argparse.Namespace) -> dict[str, float]:
    """Train on a dataset, with the data-quality callback on, and evaluate on real data when given."""
    from .callback import DataQualityCallback  # imports torch: only for this command
    from .train import train_classifier

    eval_dataset = load_any(args.eval_data) if args.eval_data else None
    quality = DataQualityCallback(reference=eval_dataset, oracle=args.oracle, text_column=args.text_column)
    _, metrics = train_classifier(
        load_any(args.dataset), args.output, eval_dataset=eval_dataset, model=args.model,
        text_column=args.text_column, label_column=args.label_column, epochs=args.epochs,
        max_steps=args.max_steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
        seed=args.seed, quality=quality, report_to=args.report_to,
    )
    return {"eval": metrics, "data": quality.metrics}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "measure":
            measure_command(args)
            return 0
        if args.command == "train":
            print(json.dumps(train_command(args)["eval"]))
            return 0
        summary = generate_command(args)
    except (TaskSpecError, ValueError) as err:
        print(f"hf-llmgen: {err}", file=sys.stderr)
        return 2
    print(json.dumps({k: summary[k] for k in ("rows", "requests", "cached_requests", "dropped", "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
