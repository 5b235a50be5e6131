"""evaluate module: remote-clique diversity of a set of texts (hf_llmgen)."""

import evaluate

from hf_llmgen.evaluate_modules import embed, module_info
from hf_llmgen.metrics import remote_clique


class RemoteClique(evaluate.Measurement):
    def _info(self):
        return module_info(
            "Remote-clique diversity: the mean over texts of each text's mean embedding distance to the others "
            "(metric='cosine' or 'euclidean'); higher is more diverse.",
            ["data"],
        )

    def _compute(self, data, metric="cosine", embedding_model=None):
        return {"remote_clique": remote_clique(embed(data, embedding_model), metric)}
