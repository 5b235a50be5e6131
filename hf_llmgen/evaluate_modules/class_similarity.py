"""evaluate module: intra- and inter-class cosine similarity of labelled texts (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import embed, module_info
from hf_llmgen.metrics import class_similarity


class ClassSimilarity(evaluate.Measurement):
    def _info(self):
        return module_info(
            "Mean cosine similarity within each class (intra) and between each pair of classes (inter), "
            "with their macro means.",
            ["data", "labels"],
        )

    def _compute(self, data, labels, embedding_model=None):
        result = class_similarity(embed(data, embedding_model), labels)
        return {"intra_class_similarity": result.intra_mean, "inter_class_similarity": result.inter_mean,
                "per_class_similarity": result.intra}
