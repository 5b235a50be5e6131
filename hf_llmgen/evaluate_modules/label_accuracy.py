"""evaluate module: agreement of labels with an oracle text classifier (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import module_info
from hf_llmgen.metrics import label_accuracy


class LabelAccuracy(evaluate.Measurement):
    def _info(self):
        return module_info(
            "Share of texts whose label equals the prediction of `oracle` (a transformers text-classification "
            "pipeline, model name or folder), overall and per label; `label_map` maps oracle labels to yours.",
            ["data", "labels"],
        )

    def _compute(self, data, labels, oracle, label_map=None):
        result = label_accuracy(data, labels, oracle, label_map=label_map)
        return {"label_accuracy": result.accuracy, "per_class_label_accuracy": result.per_class}
