"""`hf-llmgen`: the command line, mirroring the Python API."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import shlex
import sys
import typing
from collections import Counter
from dataclasses import fields
from typing import Any, Sequence

import datasets
import yaml
from datasets.exceptions import DatasetGenerationError

from .backends import BACKENDS, BackendUnavailable, make_backend
from .builder import open_request_cache
from .cards import write_card
from .filesystem import ENVIRONMENT_FAULT, FileSystemFault, check_writable, fault_of
from .folders import (FIGURE_FILE, FILTER_SUMMARY, MEASURE_FILE, OUTPUT_ENTRIES, RELABEL_SUMMARY,
                      carry_history, saved_split, with_earlier_removed)
from .generation.estimate import estimate_run
from .generation.runner import LabelNotWritable
from .generation.settings import GenerationSettings
from .generation.suggest import AttributeSuggester, NothingSuggested
from .hub import PushError, push
from .metrics import EmbeddingCache, measure
from .metrics.figure import plot_quality
from .metrics.pairwise import METRICS
from .interventions import LLMJudge, LLMRelabeler, LLMScopeFilter, OracleRelabeler, ProxyRelabeler, ScopeFilter
from .interventions.annotate import Annotation, make_server, serve_until_stopped
from .output import prepare, write_generation
from .interventions.labelling import (
    LABELS_FILE, LabelsFile, check_mark, checked_marks, export_sample, human_labels, labels_path, read_import,
    sample_rows, scope_marks,
)
from .interventions.relabel import check_human_labels
from .interventions.selection import STRATEGIES
from .metrics.report import class_names, label_names, require_column
from .registration import BUILDER_NAME
from .staging import staged, write_json
from .study.grid import DIVERSIFICATIONS, GRIDS, SET_BY_STUDY
from .study.interventions import INTERVENTIONS
from .study.reference import CLASSIFIERS
from .study.run import STUDY_FILE, run_study
from .task import TaskSpecError, load_task, preset_names
from .train import MIN_STEPS


def _flag_type(name: str) -> type:
    """The argparse type for a settings field: int, float or str (Optional[...] unwrapped)."""
    hint = typing.get_type_hints(GenerationSettings)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    return args[0] if args[0] in (int, float) else str


def _add_settings_flags(parser: argparse.ArgumentParser, exclude: Sequence[str] = ("task",)) -> None:
    """One flag per generation setting but those in `exclude`, named like the field: num_examples ->
    --num-examples."""
    for f in fields(GenerationSettings):
        if f.name not in exclude:
            flag = "--" + f.name.replace("_", "-")
            help_text = f"{f.metadata['help']} (default: {f.default})"
            parser.add_argument(flag, dest=f.name, type=_flag_type(f.name), default=None, help=help_text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hf-llmgen", description="Generate labelled text-classification data.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error, not only its line")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="generate a dataset and write it with its card and summary")
    gen.add_argument("task", help=f"a preset ({', '.join(preset_names())}) or a task YAML file")
    gen.add_argument("--output", required=True, help="folder to write the dataset, README.md and summary into")
    gen.add_argument("--format", choices=("arrow", "parquet"), default="arrow", help="arrow = save_to_disk layout")
    gen.add_argument("--cache-dir", default=None, help="datasets cache folder (the request cache lives there too)")
    gen.add_argument("--estimate", action="store_true",
                     help="print the requests, tokens and cost the run would take, and generate nothing")
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
    mea.add_argument("--task", help="preset or task YAML whose descriptions and keywords the label check uses")
    mea.add_argument("--figure", help="write a PNG here: embedding map beside the reference's, per-class bars")
    mea.add_argument("--output", help="write the metrics as JSON here too")
    mea.add_argument("--card", action="store_true",
                     help=f"DATASET is an output folder: write {MEASURE_FILE} and {FIGURE_FILE} into it, and "
                          "rebuild its card with them")

    tra = commands.add_parser("train", help="fine-tune a classifier on a dataset with Trainer, evaluate on real data")
    tra.add_argument("dataset", help="the training data (same kinds of path as measure)")
    tra.add_argument("--output", required=True, help="folder for the model, its card and eval_results.json")
    tra.add_argument("--eval", dest="eval_data", help="real labelled data to evaluate on (and measure similarity to)")
    tra.add_argument("--model", help="model name or folder (default: packaged all-MiniLM-L6-v2 + a new head)")
    tra.add_argument("--oracle", help="text-classification model for the data-quality label accuracy")
    tra.add_argument("--epochs", type=float, default=3.0)
    tra.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (overrides --epochs)")
    tra.add_argument("--min-steps", type=int, default=MIN_STEPS, help="on a small set, more epochs than --epochs so "
                     "that training takes at least this many steps (0: exactly --epochs)")
    tra.add_argument("--batch-size", type=int, default=16)
    tra.add_argument("--learning-rate", type=float, default=5e-5)
    tra.add_argument("--seed", type=int, default=0)
    tra.add_argument("--text-column", default="text")
    tra.add_argument("--label-column", default="label")
    tra.add_argument("--report-to", default="none", help="Trainer integrations: tensorboard, wandb, ... or all")
    tra.add_argument("--dataset-repo", help="the Hub repo of the training data (OWNER/NAME): the model card links it")
    tgt = commands.add_parser("target", help="find a classifier's confident errors, write hypotheses, generate "
                              "texts for them, retrain; for some rounds")
    tgt.add_argument("classifier", metavar="CLASSIFIER", help="the trained classifier to start from (folder or name; "
                     "--model names the generator)")
    tgt.add_argument("--train", required=True, help="its training data (same kinds of path as measure)")
    tgt.add_argument("--eval", dest="eval_data", required=True, help="labelled data to find its blind spots on")
    tgt.add_argument("--test", help="held-out labelled data each round is scored on (default: --eval)")
    tgt.add_argument("--output", required=True, help="folder for round_0, round_1, ...: reports, hypotheses, added "
                     "rows, models")
    tgt.add_argument("--rounds", type=int, default=1)
    tgt.add_argument("--per-hypothesis", type=int, default=8, help="rows to generate for each hypothesis")
    tgt.add_argument("--max-hypotheses", type=int, default=10, help="blind spots described per round, largest first")
    tgt.add_argument("--hypotheses", help="a hypotheses file written by hand, used in every round instead of the LLM's")
    tgt.add_argument("--threshold", type=float, help="confidence of an error that counts (default: the median "
                     "confidence of MODEL's correct predictions on --eval)")
    tgt.add_argument("--task", help="preset or task YAML describing the labels (default: the label names)")
    tgt.add_argument("--base-model", help="what each round fine-tunes (default: packaged all-MiniLM-L6-v2 + a head)")
    tgt.add_argument("--epochs", type=float, default=3.0)
    tgt.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (overrides --epochs)")
    tgt.add_argument("--min-steps", type=int, default=MIN_STEPS, help="on a small set, more epochs than --epochs so "
                     "that training takes at least this many steps (0: exactly --epochs)")
    tgt.add_argument("--train-batch-size", type=int, default=16, help="training batch size (--batch-size is "
                     "generation's requests per round)")
    tgt.add_argument("--learning-rate", type=float, default=5e-5)
    tgt.add_argument("--text-column", default="text")
    tgt.add_argument("--label-column", default="label")
    tgt.add_argument("--cache-dir", default=None, help="datasets cache folder (the request cache lives there too)")
    tgt.add_argument("--seed", type=int, default=0, help="training seed; round N generates with seed + N")
    _add_settings_flags(tgt, exclude=TARGET_FIXED)

    stu = commands.add_parser("study", help="the diversity paper's study on a task with real data: diversification "
                              "x human intervention, every metric, a table and a figure")
    stu.add_argument("task", help="a preset or a task YAML file whose labels the real data uses")
    stu.add_argument("--data", required=True, help="folder holding TASK/train.jsonl and TASK/test.jsonl (one JSON "
                     "object per line with text and label), or those files")
    stu.add_argument("--output", default="study", help="folder for study.json, study.md and study.png (rerun with "
                     "the same folder to resume)")
    stu.add_argument("--seeds", type=int, default=3, help="seeds per cell: generation, human sample, real rows")
    stu.add_argument("--rows", type=int, default=400, help="rows generated per cell")
    stu.add_argument("--grid", choices=tuple(GRIDS), default="default", help="default: no diversification, "
                     "logit suppression, attributed prompts; full: also high temperature and both. Every "
                     "intervention in each")
    stu.add_argument("--diversifications", nargs="+", choices=tuple(DIVERSIFICATIONS), metavar="NAME",
                     help=f"instead of the grid's: any of {', '.join(DIVERSIFICATIONS)}")
    stu.add_argument("--interventions", nargs="+", choices=tuple(INTERVENTIONS), metavar="NAME",
                     help=f"instead of the grid's: any of {', '.join(INTERVENTIONS)}")
    stu.add_argument("--strategy", choices=STRATEGIES, default="diverse", help="how the simulated person's k rows "
                     "are chosen, as annotate's --strategy (random: the paper's)")
    stu.add_argument("--classifier", choices=CLASSIFIERS, default="embedding", help="the downstream classifier: "
                     "embedding (logistic regression on MiniLM embeddings, seconds per cell on a CPU) or finetune "
                     "(MiniLM fine-tuned as train does, minutes per cell on a CPU)")
    stu.add_argument("--cache-dir", default=None, help="datasets and request cache (default: OUTPUT/cache)")
    stu.add_argument("--test-rows", type=int, default=2000, help="real test rows every cell is scored on")
    stu.add_argument("--generator-rows", type=int, default=200, help="test rows the generator classifies as a "
                     "baseline (0: none)")
    _add_settings_flags(stu, exclude=STUDY_FIXED)

    att = commands.add_parser("attributes", help="work with a task's attributes (AttrPrompt)")
    att_commands = att.add_subparsers(dest="attributes_command", required=True)
    sug = att_commands.add_parser("suggest", help="draft attributes with the LLM, into a YAML to review")
    sug.add_argument("task", help=f"a preset ({', '.join(preset_names())}) or a task YAML file")
    sug.add_argument("--output", required=True, help="the task YAML to write, attributes included")
    sug.add_argument("--dimensions", type=int, default=3, help="shared dimensions to ask for, besides subtopic")
    sug.add_argument("--values", type=int, default=6, help="values to ask for per dimension and per label")
    sug.add_argument("--backend", choices=BACKENDS, default="local")
    sug.add_argument("--model", help="the model (default: the embedded SmolLM2)")
    sug.add_argument("--device", help="torch device for 'transformers'")

    ann = commands.add_parser("annotate", help="serve a local page to label a sample of rows (or export/import it)")
    ann.add_argument("dataset", help="the dataset to label (same kinds of path as measure)")
    ann.add_argument("--n", type=int, default=90, help="rows to label")
    ann.add_argument("--strategy", choices=STRATEGIES, default="diverse", help="how the rows are chosen")
    ann.add_argument("--seed", type=int, default=0)
    ann.add_argument("--export", help="write the sample to this .csv/.jsonl for labelling elsewhere, serve nothing")
    ann.add_argument("--import", dest="import_file", help="read labels from a filled-in export, serve nothing")
    ann.add_argument("--host", default="127.0.0.1")
    ann.add_argument("--port", type=int, default=8765, help="0 = any free port")
    _add_intervention_flags(ann)

    rel = commands.add_parser("relabel", help="replace labels using the human labels (label replacement)")
    rel.add_argument("dataset")
    rel.add_argument("--output", required=True, help="folder to write the relabelled dataset and a summary into")
    rel.add_argument("--mode", choices=("proxy", "oracle", "llm"), default="proxy")
    rel.add_argument("--weight", type=float, default=0.3, help="proxy mode: weight of the prompted label")
    rel.add_argument("--oracle", help="oracle mode: text-classification model name or folder")
    rel.add_argument("--label-map", type=_label_map, help="oracle mode: ORACLE=DATASET label pairs")
    rel.add_argument("--backend", default="local", help="llm mode: 'local' or 'transformers'")
    rel.add_argument("--model", help="llm mode: the model (default: the embedded SmolLM2)")
    _add_intervention_flags(rel)

    fil = commands.add_parser("filter", help="remove out-of-scope rows using the human marks; keep them aside")
    fil.add_argument("dataset")
    fil.add_argument("--output", required=True, help="folder for train/ (kept), removed/ and a summary")
    fil.add_argument("--threshold", type=float, default=0.5, help="keep rows whose in-scope probability is >= this")
    fil.add_argument("--judge", choices=("proxy", "llm"), default="proxy",
                     help="proxy: trained on the human marks; llm: the generator says whether each row fits a label")
    fil.add_argument("--backend", default="local", help="llm judge: 'local' or 'transformers'")
    fil.add_argument("--model", help="llm judge: the model (default: the embedded SmolLM2)")
    _add_intervention_flags(fil)
    pus = commands.add_parser("push", help="push a dataset folder (its splits, card and summaries) or a model folder "
                              "(from train) to the Hub")
    pus.add_argument("dataset", help="a folder written by generate, relabel, filter (a dataset) or train (a model)")
    pus.add_argument("--repo", required=True, help="the dataset or model repo, OWNER/NAME")
    pus.add_argument("--public", action="store_true", help="make a new repo public (default: private)")
    pus.add_argument("--revision", help="the branch to push to (default: main)")
    pus.add_argument("--token-env", default="HF_TOKEN", help="the environment variable holding the token")
    pus.add_argument("--license", help="the licence of the data, as a Hub licence id (e.g. apache-2.0)")
    pus.add_argument("--source-dataset", dest="source_datasets", action="append",
                     help="a Hub dataset id of real data the rows drew on (seed examples, labels); repeatable")
    return parser


def _add_intervention_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", help=f"the human labels file (default: {LABELS_FILE} beside the dataset)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--embedding-model", default=None, help="sentence-transformers name or folder")


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
    cache_location = _cache_location(args)
    check_writable(*cache_location)
    builder = datasets.load_dataset_builder(BUILDER_NAME, name, cache_dir=args.cache_dir, **extra, **options)
    task = load_task(builder.config.task)
    estimate = estimate_run(builder.config, task)
    if args.estimate:
        return {"estimate": estimate}
    check_writable(*cache_location, needed_bytes=builder.config.num_examples * CACHE_BYTES_PER_ROW)
    check_writable(args.output, "--output", needed_bytes=builder.config.num_examples * OUTPUT_BYTES_PER_ROW)
    reused = os.path.exists(os.path.join(builder.cache_dir, "dataset_info.json"))
    try:
        prepare(builder)
    except DatasetGenerationError as err:
        if isinstance(err.__cause__, OSError):  # only the cache is written while generating
            raise fault_of(err.__cause__, {}, fallback=cache_location) from None
        raise
    except OSError as err:  # datasets' own disk-space check, its lock files
        raise fault_of(err, {}, fallback=cache_location) from None
    except KeyboardInterrupt:
        raise Interrupted(_resume_line(builder, args)) from None
    return write_generation(builder, args.output, fmt=args.format, task_argument=task_argument,
                            extra={"served_from_datasets_cache": reused, "estimate": estimate})


CACHE_BYTES_PER_ROW = 8192  # a row's requests in the request cache and its Arrow row, with room to spare
OUTPUT_BYTES_PER_ROW = 4096


class Interrupted(Exception):
    """Ctrl-C stopped a generation or a study; the message says what is kept and the command that resumes."""


def _cache_location(args: argparse.Namespace) -> tuple[str, str]:
    """The datasets cache folder the command uses, and the option or variable that chose it."""
    if args.cache_dir:
        return args.cache_dir, "--cache-dir"
    return datasets.config.HF_DATASETS_CACHE, "HF_DATASETS_CACHE (or --cache-dir)"


def _resume_line(builder: datasets.DatasetBuilder, args: argparse.Namespace) -> str:
    cache = open_request_cache(builder)
    finished, path = len(cache), cache.path
    cache.close()
    return (f"interrupted: the request cache ({path}) holds {finished} finished requests; nothing was written "
            f"to {args.output}. To continue from them, run again: {shlex.join(['hf-llmgen', *args.argv])}")


def _study_resume_line(args: argparse.Namespace) -> str:
    path = os.path.join(args.output, STUDY_FILE)
    cells = len(json.load(open(path, encoding="utf-8"))["cells"]) if os.path.exists(path) else 0
    return (f"interrupted: {path} holds {cells} finished cells, and the request cache every finished request. "
            f"To continue from them, run again: {shlex.join(['hf-llmgen', *args.argv])}")


def load_any(path: str) -> datasets.Dataset:
    """A dataset from a generate --output folder, a save_to_disk folder, or a jsonl/json/csv/parquet file."""
    try:
        return _load(path)
    except IndexError as err:  # datasets cannot load a saved dataset of no rows
        raise ValueError(f"dataset: {path} holds no rows; give a dataset with rows.") from err
    except ValueError as err:
        if "corresponds to no data" in str(err):  # a data file of no rows
            raise ValueError(f"dataset: {path} holds no rows; give a dataset with rows.") from err
        raise


def _load(path: str) -> datasets.Dataset:
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, "state.json")):
            return datasets.load_from_disk(path)
        train = saved_split(path, "train")
        if train is not None:
            return train
        raise ValueError(f"dataset: {path} holds no saved dataset (no state.json or train.parquet).")
    builders = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
    kind = builders.get(os.path.splitext(path)[1])
    if kind is None or not os.path.isfile(path):
        raise ValueError(f"dataset: {path} is not a folder or a .jsonl/.json/.csv/.parquet file.")
    return datasets.load_dataset(kind, data_files=path, split="train")


def measure_command(args: argparse.Namespace) -> dict[str, Any]:
    """Measure a dataset, print a table, and write JSON when asked; with --card, into the folder, with its card."""
    if args.card and saved_split(args.dataset, "train") is None:
        raise ValueError(f"--card: {args.dataset} is not an output folder of generate, relabel or filter (no train "
                         "split in it); give such a folder, or leave out --card.")
    dataset = load_any(args.dataset)
    reference = load_any(args.reference) if args.reference else None
    label_column = args.label_column or None
    cache = EmbeddingCache(args.embedding_model)
    result = measure(
        dataset, reference, text_column=args.text_column, label_column=label_column,
        metric=args.metric, embeddings=cache, oracle=args.oracle, label_map=args.label_map, task=args.task,
    )
    figures = [args.figure] if args.figure else []
    if args.card:
        figures.append(os.path.join(args.dataset, FIGURE_FILE))
    for path in figures:
        _figure(path, dataset, reference, result, cache, args.text_column, label_column)
    cache.close()
    for name, value in result.items():
        if not isinstance(value, dict):
            print(f"{name:32} {value:.4f}" if isinstance(value, float) else f"{name:32} {value}")
    if "label_check" in result:
        print(f"\n{'label check, per label':32} {'rows':>6} {'passed':>7} {'rate':>6}")
        for label, check in result["label_check"].items():
            rate = "-" if check["pass_rate"] is None else f"{check['pass_rate']:.0%}"
            print(f"{label:32} {check['checked']:>6} {check['passed']:>7} {rate:>6}")
    if args.output:
        write_json(args.output, result)
    if args.card:
        write_json(os.path.join(args.dataset, MEASURE_FILE), result)
        write_card(args.dataset)
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
        text_column=args.text_column, label_column=args.label_column, epochs=args.epochs, max_steps=args.max_steps,
        min_steps=args.min_steps, batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed,
        quality=quality, report_to=args.report_to, dataset_repo=args.dataset_repo,
    )
    return {"eval": metrics, "data": quality.metrics}


TARGET_FIXED = ("task", "num_examples", "prompt", "targets", "seed")  # generation settings `target` chooses itself
STUDY_FIXED = (*SET_BY_STUDY, "targets", "human_labels")  # generation settings the study sets, or has no use for


def _generation_options(args: argparse.Namespace, fixed: Sequence[str]) -> dict[str, Any]:
    """The generation settings given on the command line, but those in `fixed`."""
    return {f.name: getattr(args, f.name) for f in fields(GenerationSettings)
            if f.name not in fixed and getattr(args, f.name) is not None}


def study_command(args: argparse.Namespace) -> dict[str, Any]:
    """Run (or resume) the study; returns its summary rows and where it wrote them."""
    diversifications, interventions = GRIDS[args.grid]
    grid = (args.diversifications or diversifications, args.interventions or interventions)
    try:
        record = run_study(args.task, args.data, output=args.output, seeds=args.seeds, rows=args.rows, grid=grid,
                           cache_dir=args.cache_dir, test_rows=args.test_rows, generator_rows=args.generator_rows,
                           strategy=args.strategy, classifier=args.classifier,
                           generation=_generation_options(args, STUDY_FIXED))
    except KeyboardInterrupt:
        raise Interrupted(_study_resume_line(args)) from None
    return {"output": args.output, "wall_seconds": record["wall_seconds"], "request_cache": record["request_cache"],
            "summary": record["summary"], "baselines": record["baseline_summary"]}


def target_command(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the targeted-data loop and return every round's report."""
    from .targeted.loop import TargetedLoop  # imports torch: only for this command

    generation = _generation_options(args, TARGET_FIXED)
    training = {"epochs": args.epochs, "max_steps": args.max_steps, "min_steps": args.min_steps,
                "batch_size": args.train_batch_size, "learning_rate": args.learning_rate}
    loop = TargetedLoop(
        args.classifier, load_any(args.train), load_any(args.eval_data), args.output,
        test=load_any(args.test) if args.test else None, base_model=args.base_model, task=args.task,
        hypotheses=args.hypotheses, per_hypothesis=args.per_hypothesis, max_hypotheses=args.max_hypotheses,
        threshold=args.threshold, generation=generation, cache_dir=args.cache_dir, text_column=args.text_column,
        label_column=args.label_column, training=training, seed=args.seed,
    )
    return loop.run(args.rounds)


def suggest_command(args: argparse.Namespace) -> list[str]:
    """Draft the task's attributes with the LLM and write the task YAML for review; returns the notes."""
    task = load_task(args.task)
    for name in ("dimensions", "values"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name}: must be at least 1, got {getattr(args, name)}.")
    backend = make_backend(GenerationSettings(backend=args.backend, model=args.model, device=args.device))
    try:
        suggester = AttributeSuggester(backend, args.dimensions, args.values)
        data = suggester.suggest(task)
        header = [f"Attributes drafted by `hf-llmgen attributes suggest` with {backend.model_id}.",
                  "Review and edit them before generating with prompt: attributes."]
        header += [f"Note: {note}" for note in suggester.notes]
    finally:
        backend.close()
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("".join(f"# {line}\n" for line in header))
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True, width=100)
    return suggester.notes


def annotate_command(args: argparse.Namespace) -> None:
    """Import labels, export the sample, or serve the labelling page until Ctrl-C."""
    dataset = load_any(args.dataset)
    names = class_names(dataset, args.label_column)
    labels = LabelsFile(args.labels or labels_path(args.dataset))
    if args.import_file:
        marks = read_import(args.import_file)
        for mark in marks:
            check_mark(mark, dataset, names, args.text_column)
        for mark in marks:
            labels.add(mark)
        print(f"imported {len(marks)} marks into {labels.path}")
        return
    marks = checked_marks(labels.path, dataset, names, args.text_column)
    sample = sample_rows(dataset, args.n, strategy=args.strategy, seed=args.seed, text_column=args.text_column,
                         embedding_model=args.embedding_model)
    rows = sample + sorted(set(marks) - set(sample))  # rows marked earlier stay on the page
    if args.export:
        export_sample(args.export, dataset, rows, marks, args.text_column, args.label_column)
        print(f"wrote {len(rows)} rows to {args.export}; fill in human_label or out_of_scope, then --import it")
        return
    annotation = Annotation(dataset, rows, names, labels, title=os.path.basename(os.path.normpath(args.dataset)),
                            text_column=args.text_column, label_column=args.label_column)
    server = make_server(annotation, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"labelling {len(rows)} rows at http://{host}:{port}/ ; marks go to {labels.path}. Ctrl-C to stop.")
    serve_until_stopped(server)


def _marks(args: argparse.Namespace, dataset: datasets.Dataset, names: Sequence[str] | None,
           required: bool = True) -> dict:
    """The human marks for the dataset, checked against it; an error saying how to make them when `required`
    and there are none."""
    path = args.labels or labels_path(args.dataset)
    marks = checked_marks(path, dataset, names, args.text_column)
    if required and not marks:
        raise ValueError(f"labels: no human labels in {path}; run `hf-llmgen annotate {args.dataset}` first, "
                         "or pass --labels FILE.")
    return marks


def relabel_command(args: argparse.Namespace) -> dict[str, Any]:
    """Relabel with the chosen mode (human labels, needed for proxy mode, always win); save the dataset and
    a summary."""
    if args.mode == "oracle" and not args.oracle:
        raise ValueError("--oracle: oracle mode needs a text-classification model name or folder.")
    dataset = load_any(args.dataset)
    names = class_names(dataset, args.label_column)
    columns = {"text_column": args.text_column, "label_column": args.label_column}
    texts, labels = human_labels(_marks(args, dataset, names, required=args.mode == "proxy").values())
    left_out: list[str] = []  # labels with too few human rows for the proxy to learn
    if args.mode == "proxy":
        relabeler = ProxyRelabeler(names, weight=args.weight, embedding_model=args.embedding_model, **columns)
        relabeler.fit(texts, labels)
        left_out = relabeler.left_out
    else:
        check_human_labels(labels, names, min_per_class=0)
        if args.mode == "oracle":
            relabeler = OracleRelabeler(names, args.oracle, label_map=args.label_map, **columns)
        else:
            relabeler = LLMRelabeler(names, judge=LLMJudge(args.backend, args.model), **columns)
        relabeler.human = dict(zip(texts, labels))
    relabelled = dataset.map(relabeler, batched=True, desc=f"relabel ({args.mode})")
    summary = {"mode": args.mode, "rows": len(relabelled), "human_labels": len(texts),
               "changed": dict(Counter(by for by in relabelled["relabelled_by"] if by)),
               "left_out_of_proxy": left_out}
    with staged(args.output, "--output", OUTPUT_ENTRIES) as folder:
        relabelled.save_to_disk(os.path.join(folder, "train"))
        write_json(os.path.join(folder, RELABEL_SUMMARY), summary)
        carry_history(args.dataset, folder)
        write_card(folder)
    return summary


def filter_command(args: argparse.Namespace) -> dict[str, Any]:
    """Split the dataset into kept and removed rows (by the human scope marks, or the LLM's answers); save
    both and a summary."""
    dataset = load_any(args.dataset)
    require_column(dataset, args.text_column, "--text-column")
    if args.judge == "llm":
        names = class_names(dataset, args.label_column)
        scope = LLMScopeFilter(names, judge=LLMJudge(args.backend, args.model), text_column=args.text_column)
        summary = {"judge": "llm"}
    else:
        texts, in_scope = scope_marks(_marks(args, dataset, None).values())
        scope = ScopeFilter(threshold=args.threshold, text_column=args.text_column,
                            embedding_model=args.embedding_model).fit(texts, in_scope)
        summary = {"judge": "proxy", "marks": len(texts), "marked_out_of_scope": in_scope.count(False)}
    parts = scope.split(dataset)
    summary.update(rows=len(dataset), kept=len(parts["kept"]), removed=len(parts["removed"]))
    with staged(args.output, "--output", OUTPUT_ENTRIES) as folder:
        parts["kept"].save_to_disk(os.path.join(folder, "train"))
        with_earlier_removed(parts["removed"], args.dataset).save_to_disk(os.path.join(folder, "removed"))
        write_json(os.path.join(folder, FILTER_SUMMARY), summary)
        carry_history(args.dataset, folder)
        write_card(folder)
    return summary


def _locations(args: argparse.Namespace) -> dict[str, str]:
    """{path: the option that chose it} for the places the command writes."""
    places = dict([_cache_location(args)]) if hasattr(args, "cache_dir") else {}
    if getattr(args, "output", None):
        places[args.output] = "--output"
    return places


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)command's own parser that `args` came through, e.g. `attributes suggest`'s."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return _command_parser(action.choices[chosen], args)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; an unknown flag is an error naming the closest flag of its command."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = _command_parser(parser, args)
        flags = [flag for action in command._actions for flag in action.option_strings]
        close = difflib.get_close_matches(unknown[0].split("=")[0], flags, n=1)
        hint = f"; did you mean {close[0]}? (`{command.prog} --help` lists the options)" if close else ""
        command.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


EXIT_CODES = (  # what each kind of error exits with; its message is the one line printed
    ((TaskSpecError, ValueError), 2),
    ((BackendUnavailable, LabelNotWritable, NothingSuggested, PushError), 1),
    ((FileSystemFault, OSError), ENVIRONMENT_FAULT),
    ((Interrupted,), 130),
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        return _run(args)
    except Exception as err:
        code = next((code for kinds, code in EXIT_CODES if isinstance(err, kinds)), None)
        if code is None or args.debug:
            raise
        message = fault_of(err, _locations(args)) if isinstance(err, OSError) else err
        print(f"hf-llmgen: {message}", file=sys.stderr)
        return code


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; its output on stdout, the exit status returned."""
    if args.command == "measure":
        measure_command(args)
        return 0
    if args.command == "train":
        with contextlib.redirect_stdout(sys.stderr):  # Trainer prints its logs: stdout keeps the result alone
            metrics = train_command(args)["eval"]
        print(json.dumps(metrics))
        return 0
    if args.command == "target":
        with contextlib.redirect_stdout(sys.stderr):
            reports = target_command(args)
        print("\n".join(json.dumps(report) for report in reports))
        return 0
    if args.command == "study":
        with contextlib.redirect_stdout(sys.stderr):
            result = study_command(args)
        print(json.dumps(result))
        return 0
    if args.command == "attributes":
        notes = suggest_command(args)
        print(f"wrote {args.output}" + "".join(f"\nnote: {note}" for note in notes))
        return 0
    if args.command == "annotate":
        annotate_command(args)
        return 0
    if args.command == "push":
        result = push(args.dataset, args.repo, private=not args.public, revision=args.revision,
                      token_env=args.token_env, license=args.license, source_datasets=args.source_datasets)
        print(json.dumps({"repo": result.repo_id, "url": result.url, "private": result.private,
                          "files": result.files}))
        return 0
    if args.command in ("relabel", "filter"):
        command = relabel_command if args.command == "relabel" else filter_command
        print(json.dumps(command(args)))
        return 0
    summary = generate_command(args)
    if args.estimate:
        print(json.dumps(summary["estimate"]))
        return 0
    keys = ("rows", "requests", "cached_requests", "dropped", "failed", "cost_usd", "max_cost_reached", "seconds")
    print(json.dumps({k: summary[k] for k in keys}))
    for warning in summary["label_check_warnings"]:
        print(f"hf-llmgen: warning: {warning}", file=sys.stderr)
    return 0


def entry() -> None:
    """The `hf-llmgen` command. After Ctrl-C it exits at once instead of waiting for the engine's requests in
    flight: every finished request is already in the request cache."""
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
