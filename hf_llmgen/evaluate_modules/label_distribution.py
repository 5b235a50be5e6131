"""evaluate module: the label distribution of a dataset (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import module_info
from hf_llmgen.metrics import label_distribution


class LabelDistribution(evaluate.Measurement):
    def _info(self):
        return module_info("Counts and shares per label, normalised entropy and the max/min count ratio.", ["labels"])

    def _compute(self, labels, names=None):
        return label_distribution(labels, names)
