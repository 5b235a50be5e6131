"""`BlindSpotCallback`: at the end of training, finds the model's confident errors on labelled data and writes
hypotheses about them for the next run, for users who keep their own training script."""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any, Mapping

import datasets
from transformers import TrainerCallback

from ..generation.settings import GenerationSettings
from ..metrics.accuracy import oracle_label_map
from ..metrics.embeddings import EmbeddingCache
from ..metrics.report import class_names
from ..task import Target
from .blind_spots import BlindSpot, NoConfidentErrors, blind_spots, confidence_threshold, predict
from .hypotheses import describe_blind_spots, save_hypotheses

logger = logging.getLogger(__name__)
HYPOTHESES_FILE = "hypotheses.yaml"


class BlindSpotCallback(TrainerCallback):
    """Writes `hypotheses.yaml` (into the output folder, or `path`) when training ends: the LLM's hypotheses about
    the largest `max_hypotheses` groups of the trained model's confident errors on `eval_dataset`.

    threshold: confidence of an error that counts (default: the median confidence of its correct predictions).
    text_type / descriptions: how the LLM is told what the texts and labels are. generation: backend options
    (backend, model, ...). After training, `spots`, `targets` and `threshold` hold what was found; `dropped` the
    LLM answers that gave no hypothesis, by reason.
    """

    def __init__(
        self, eval_dataset: datasets.Dataset, *, path: str | None = None, threshold: float | None = None,
        max_hypotheses: int = 10, text_type: str = "text", descriptions: Mapping[str, str] | None = None,
        generation: Mapping[str, Any] | None = None, text_column: str = "text", label_column: str = "label",
        embeddings: EmbeddingCache | None = None,
    ) -> None:
        self.eval_dataset = eval_dataset
        self.path = path
        self.threshold = threshold
        self.max_hypotheses = max_hypotheses
        self.text_type = text_type
        self.descriptions = dict(descriptions or {})
        self.settings = GenerationSettings(**(generation or {}))
        self.text_column = text_column
        self.label_column = label_column
        self.embeddings = embeddings
        self.spots: list[BlindSpot] = []
        self.targets: list[Target] = []
        self.dropped: Counter = Counter()

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        """Check, before any step, that the model's labels are the evaluation data's."""
        id2label = model.config.id2label
        names = class_names(self.eval_dataset, self.label_column)
        oracle_label_map([id2label[i] for i in sorted(id2label)], names)

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if not state.is_world_process_zero:
            return
        from transformers import pipeline

        classifier = pipeline("text-classification", model=model, tokenizer=processing_class)
        predictions = predict(classifier, self.eval_dataset, self.text_column, self.label_column)
        if self.threshold is None:
            self.threshold = confidence_threshold(predictions)
        try:
            spots = blind_spots(predictions, self.eval_dataset[self.text_column], self.threshold, self.embeddings)
        except NoConfidentErrors as err:
            logger.warning("BlindSpotCallback: %s", err)
            return
        self.targets, self.spots, self.dropped = describe_blind_spots(spots[: self.max_hypotheses], self.settings,
                                                                     self.text_type, self.descriptions)
        path = self.path or os.path.join(args.output_dir, HYPOTHESES_FILE)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save_hypotheses(path, self.targets, self.spots, {"threshold": round(self.threshold, 4), "source": "llm",
                                                         "dropped_answers": dict(self.dropped)})
        logger.info("BlindSpotCallback: %d hypotheses about %d confident errors written to %s", len(self.targets),
                    sum(spot.size for spot in self.spots), path)
