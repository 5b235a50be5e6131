"""evaluate module: vocabulary size and distinct-n of a set of texts (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import module_info
from hf_llmgen.metrics import distinct_n, vocabulary_size


class LexicalDiversity(evaluate.Measurement):
    def _info(self):
        return module_info("Distinct lower-cased words, and distinct n-grams over all n-grams for n = 1, 2.", ["data"])

    def _compute(self, data):
        return {"vocabulary_size": vocabulary_size(data), "distinct_1": distinct_n(data, 1),
                "distinct_2": distinct_n(data, 2)}
