"""Fine-tune a text classifier on a (generated) dataset with `Trainer`, and evaluate it on real data."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Sequence

import datasets
import numpy as np

from .metrics.embeddings import default_embedding_model
from .metrics.report import class_names, require_column
from .staging import staged

if TYPE_CHECKING:
    from .callback import DataQualityCallback

MAX_LENGTH = 128
MIN_STEPS = 100  # a new head needs about this many updates: after 36 on 180 rows its training loss was still 0.68


def training_epochs(rows: int, epochs: float, batch_size: int, min_steps: int = MIN_STEPS) -> float:
    """`epochs`, raised where needed so that training on `rows` rows takes at least `min_steps` optimizer steps."""
    return max(epochs, min_steps / math.ceil(rows / batch_size))


def encode_labels(dataset: datasets.Dataset, column: str, names: Sequence[str]) -> datasets.Dataset:
    """`dataset` with its label column as ClassLabel(names), matching labels by name; unknown names raise."""
    given = class_names(dataset, column)
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"{column}: labels {unknown} are not among the training labels {list(names)}.")
    if given == list(names):
        return dataset.cast_column(column, datasets.ClassLabel(names=list(names)))
    index = {name: i for i, name in enumerate(names)}
    feature = dataset.features[column]
    to_name = feature.int2str if isinstance(feature, datasets.ClassLabel) else str
    features = dataset.features.copy()
    features[column] = datasets.ClassLabel(names=list(names))
    return dataset.map(
        lambda batch: {column: [index[to_name(value)] for value in batch[column]]},
        batched=True,
        features=features,
        desc="matching labels by name",
    )


def _accuracy_and_f1(prediction: Any) -> dict[str, float]:
    from sklearn.metrics import f1_score

    predicted = np.argmax(prediction.predictions, axis=-1)
    return {
        "accuracy": float(np.mean(predicted == prediction.label_ids)),
        "macro_f1": float(f1_score(prediction.label_ids, predicted, average="macro")),
    }


def train_classifier(
    train_dataset: datasets.Dataset,
    output_dir: str,
    *,
    eval_dataset: datasets.Dataset | None = None,
    model: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
    epochs: float = 3.0,
    max_steps: int = -1,
    min_steps: int = MIN_STEPS,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    seed: int = 0,
    quality: DataQualityCallback | None = None,
    report_to: str | list[str] = "none",
    dataset_repo: str | None = None,
) -> tuple[Any, dict[str, float]]:
    """Train a sequence classifier on `train_dataset`, evaluate it on `eval_dataset`, save both to `output_dir`
    (whole: a failure leaves its earlier content).

    model: a model name or folder (default: the packaged all-MiniLM-L6-v2 body with a new classification head).
    min_steps: on a small set, train for more than `epochs` so that training takes at least this many optimizer
        steps (0: exactly `epochs`); `max_steps`, when given, sets the steps instead.
    quality: a DataQualityCallback to run (default: one measuring the train set against `eval_dataset`); the
        trainer's train set keeps `text_column` and has its labels in a ClassLabel column named "label".
    dataset_repo: the Hub repo id of the training data (e.g. where `hf-llmgen push` sent it): the model card
        links it and names its evaluation after it.
    Returns the Trainer and the evaluation metrics (accuracy, macro F1; empty without `eval_dataset`).
    """
    from transformers import (  # these and the callback import torch: only when training
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from .callback import DataQualityCallback

    for role, data in (("train", train_dataset), ("eval", eval_dataset)):
        if data is not None:
            require_column(data, text_column, "text_column", f"the {role} set")
    names = class_names(train_dataset, label_column)
    train_dataset = encode_labels(train_dataset, label_column, names)
    if eval_dataset is not None:
        eval_dataset = encode_labels(eval_dataset, label_column, names)
    model_name = model or default_embedding_model()
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    classifier = AutoModelForSequenceClassification.from_pretrained(
        model_name,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
    )

    def tokenize(batch: dict[str, list]) -> dict[str, Any]:
        return tokenizer(batch[text_column], truncation=True, max_length=MAX_LENGTH)

    def prepare(dataset: datasets.Dataset) -> datasets.Dataset:
        tokenized = dataset.map(tokenize, batched=True, desc="tokenizing")
        return tokenized if label_column == "label" else tokenized.rename_column(label_column, "label")

    earlier = os.listdir(output_dir) if os.path.isdir(output_dir) else []  # a new model replaces all of an old one
    with staged(output_dir, "output_dir", owned=earlier) as folder:
        args = TrainingArguments(
            output_dir=folder,
            num_train_epochs=training_epochs(len(train_dataset), epochs, batch_size, min_steps),
            max_steps=max_steps,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size * 4,
            learning_rate=learning_rate,
            seed=seed,
            logging_steps=10,
            save_strategy="no",
            report_to=report_to,
        )
        if quality is None:
            quality = DataQualityCallback(reference=eval_dataset, text_column=text_column)
        trainer = Trainer(
            model=classifier,
            args=args,
            train_dataset=prepare(train_dataset),
            eval_dataset=prepare(eval_dataset) if eval_dataset is not None else None,
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=_accuracy_and_f1,
            callbacks=[quality],
        )
        quality.set_trainer(trainer)
        trainer.train()
        metrics = trainer.evaluate() if eval_dataset is not None else {}
        trainer.save_model()
        trainer.save_state()
        if metrics:
            trainer.save_metrics("eval", metrics)
        trainer.create_model_card(model_name=os.path.basename(os.path.normpath(output_dir)), tags=["hf_llmgen"],
                                  finetuned_from=model_name if model else None, tasks="text-classification",
                                  dataset_tags=dataset_repo, dataset=dataset_repo)
        quality.update_model_card(folder)
    trainer.args.output_dir = output_dir
    return trainer, metrics
