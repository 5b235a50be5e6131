"""evaluate module: similarity of a set of texts to a reference set (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import embed, module_info
from hf_llmgen.metrics import similarity


class ReferenceSimilarity(evaluate.Measurement):
    def _info(self):
        return module_info(
            "Similarity to `reference` (a list of texts) from the mean distance d over all (text, reference text) "
            "pairs: cosine 1 - d, euclidean 1 / (1 + d); higher is closer.",
            ["data"],
        )

    def _compute(self, data, reference, metric="cosine", embedding_model=None):
        return {"similarity": similarity(embed(data, embedding_model), embed(reference, embedding_model), metric)}
