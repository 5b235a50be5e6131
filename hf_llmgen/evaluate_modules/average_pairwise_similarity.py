"""evaluate module: average pairwise cosine similarity (APS) of a set of texts (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import embed, module_info
from hf_llmgen.metrics import average_pairwise_similarity


class AveragePairwiseSimilarity(evaluate.Measurement):
    def _info(self):
        return module_info(
            "APS: the mean cosine similarity of the texts' embeddings over all pairs; lower is more diverse.",
            ["data"],
        )

    def _compute(self, data, embedding_model=None):
        return {"average_pairwise_similarity": average_pairwise_similarity(embed(data, embedding_model))}
