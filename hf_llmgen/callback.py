"""`DataQualityCallback`: measures the training data when training begins and logs it through the Trainer."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

import datasets
from transformers import TrainerCallback

from .metrics.embeddings import EmbeddingCache
from .metrics.report import flatten, measure

CARD_KEY = "hf_llmgen_data_quality"
_SECTION = re.compile(r"\n?<!-- hf_llmgen data quality -->.*<!-- /hf_llmgen data quality -->\n?", re.DOTALL)


class DataQualityCallback(TrainerCallback):
    """Logs diversity, similarity and label-accuracy metrics of the train set, prefixed `data/`.

    train_dataset: what to measure (default: the trainer's train set, which must keep its text column).
    reference: real data to measure similarity to; oracle: a text-classification pipeline, model name or
    folder for label accuracy (with label_map: oracle label -> dataset label where names differ).
    Each `trainer.train()` measures the train set again only when it has changed (by its fingerprint).
    The callback logs through the trainer, so give it the trainer after creating it: `set_trainer(trainer)`.
    """

    def __init__(
        self,
        train_dataset: datasets.Dataset | None = None,
        reference: datasets.Dataset | None = None,
        oracle: Any = None,
        *,
        label_map: Mapping[str, str] | None = None,
        text_column: str = "text",
        label_column: str | None = "label",
        metric: str = "cosine",
        embeddings: EmbeddingCache | None = None,
        prefix: str = "data/",
    ) -> None:
        self.train_dataset = train_dataset
        self.reference = reference
        self.oracle = oracle
        self.label_map = label_map
        self.text_column = text_column
        self.label_column = label_column
        self.metric = metric
        self.embeddings = embeddings
        self.prefix = prefix
        self.trainer: Any = None
        self.metrics: dict[str, Any] = {}
        self._measured_fingerprint: str | None = None

    def set_trainer(self, trainer: Any) -> None:
        """The Trainer to log through (callbacks get no handle on it otherwise)."""
        self.trainer = trainer

    def _dataset(self) -> datasets.Dataset:
        if self.trainer is None:
            raise RuntimeError(
                "DataQualityCallback has no trainer to log through: call callback.set_trainer(trainer) "
                "after creating the Trainer."
            )
        dataset = self.train_dataset if self.train_dataset is not None else self.trainer.train_dataset
        if not isinstance(dataset, datasets.Dataset):
            raise TypeError(
                f"train_dataset: DataQualityCallback measures a datasets.Dataset with a text column, not "
                f"{type(dataset).__name__}; pass DataQualityCallback(train_dataset=...)."
            )
        return dataset

    def on_train_begin(self, args, state, control, **kwargs):
        dataset = self._dataset()
        if state.is_world_process_zero and dataset._fingerprint != self._measured_fingerprint:
            self.metrics = measure(
                dataset, self.reference, text_column=self.text_column, label_column=self.label_column,
                metric=self.metric, embeddings=self.embeddings, oracle=self.oracle, label_map=self.label_map,
            )
            self._measured_fingerprint = dataset._fingerprint
            self.trainer.log(flatten(self.metrics, self.prefix))

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.update_model_card(args.output_dir)

    def update_model_card(self, folder: str) -> None:
        """Put the last metrics into `folder`/README.md: under `hf_llmgen_data_quality` in its metadata, and
        as a table in its text (replacing an earlier one). Creates the card when there is none."""
        from huggingface_hub import ModelCard

        if not self.metrics:
            return
        path = os.path.join(folder, "README.md")
        card = ModelCard.load(path) if os.path.exists(path) else ModelCard("---\n---\n")
        card.data[CARD_KEY] = self.metrics
        rows = "\n".join(f"| {name} | {value:.4g} |" for name, value in flatten(self.metrics).items())
        section = (
            "\n<!-- hf_llmgen data quality -->\n## Training data quality\n\n"
            "Measured by hf_llmgen's DataQualityCallback when training began.\n\n"
            f"| metric | value |\n|---|---|\n{rows}\n<!-- /hf_llmgen data quality -->\n"
        )
        card.text = _SECTION.sub("", card.text).rstrip("\n") + "\n" + section
        os.makedirs(folder, exist_ok=True)
        card.save(path)
