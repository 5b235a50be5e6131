"""The transformers backend: any causal LM from `from_pretrained` (a GGUF file too), batched `generate`."""

from __future__ import annotations

import os
from typing import Any, Iterator, Sequence

from .base import Backend, Completion, ContentTokens, Request
from ..fingerprint import weights_fingerprint
from .engine import default_gguf_path


def _bias_processor(bias: dict[int, float], vocab_size: int, device: Any) -> Any:
    """A LogitsProcessor adding a fixed bias vector to every step's scores."""
    import torch
    from transformers import LogitsProcessor

    class BiasLogits(LogitsProcessor):
        def __init__(self) -> None:
            self.vector = torch.zeros(vocab_size, device=device)
            ids = torch.tensor(list(bias), dtype=torch.long, device=device)
            self.vector[ids] = torch.tensor(list(bias.values()), device=device)

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            return scores + self.vector[: scores.shape[-1]].to(scores.dtype)

    return BiasLogits()


def _frequency_processor(penalty: float, prompt_length: int) -> Any:
    """A LogitsProcessor taking `penalty` from a token's score for each time the completion so far holds it."""
    import torch
    from transformers import LogitsProcessor

    class FrequencyPenalty(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            written = input_ids[:, prompt_length:]
            counts = torch.zeros_like(scores).scatter_add_(1, written, torch.ones_like(written, dtype=scores.dtype))
            return scores - penalty * counts

    return FrequencyPenalty()


class TransformersBackend(Backend):
    """Batched sampling with `model.generate`; logit suppression through a LogitsProcessor; CUDA when present.

    One `generate` call serves a whole round, so the round's request seeds together seed the torch RNG:
    the same round gives the same completions.
    """

    name = "transformers"

    def __init__(self, model: str | None = None, device: str | None = None, max_batch: int = 16) -> None:
        self.model_name = model or default_gguf_path()
        self.device = device
        self.max_batch = max_batch
        is_gguf = self.model_name.endswith(".gguf")
        if is_gguf and not os.path.isfile(self.model_name):
            raise ValueError(f"model: GGUF file {self.model_name!r} does not exist.")
        if _is_path(self.model_name) and not os.path.isdir(self.model_name) and not is_gguf:
            raise ValueError(f"model: folder {self.model_name!r} does not exist; give a model folder that "
                             "`from_pretrained` reads, a GGUF file, or a Hub model id such as 'org/name'.")
        self._model_id = weights_fingerprint(self.model_name) if is_gguf else self.model_name
        self._model: Any = None
        self._tokenizer: Any = None
        self._content: ContentTokens | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.device is None:
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        kwargs: dict[str, Any] = {}
        source = self.model_name
        if source.endswith(".gguf"):
            source, kwargs["gguf_file"] = os.path.split(os.path.abspath(source))
        self._tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self._model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs).to(self.device)
        self._model.eval()
        self._content = ContentTokens(lambda i: self._tokenizer.decode([i]), self._tokenizer.all_special_ids)

    def content_tokens(self, text: str) -> list[int]:
        if self._model is None:
            self._load()
        return self._content(self._tokenizer.encode(text, add_special_tokens=False))

    def close(self) -> None:
        self._model = None
        self._tokenizer = None

    def generate(self, requests: Sequence[Request]) -> Iterator[tuple[int, Completion]]:
        """Requests that share their sampling parameters (logit bias included) run in batches of `max_batch`."""
        if self._model is None:
            self._load()
        groups: dict[tuple, list[int]] = {}
        for index, r in enumerate(requests):
            key = (r.max_tokens, r.temperature, r.top_p, tuple(sorted(r.logit_bias.items())), r.top_logprobs,
                   r.frequency_penalty)
            groups.setdefault(key, []).append(index)
        for indices in groups.values():
            for start in range(0, len(indices), self.max_batch):
                batch = indices[start : start + self.max_batch]
                for index, completion in zip(batch, self._generate_batch([requests[i] for i in batch])):
                    yield index, completion

    def _generate_batch(self, batch: Sequence[Request]) -> list[Completion]:
        """One `generate` call; the requests share their sampling parameters, so the first one's apply."""
        import torch

        first = batch[0]
        tok = self._tokenizer
        prompts = [tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False) for r in batch]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        torch.manual_seed(sum(r.seed for r in batch) % (2**31))
        sampling: dict[str, Any] = {"do_sample": first.temperature > 0}
        if first.temperature > 0:
            sampling.update(temperature=first.temperature, top_p=first.top_p, top_k=0)
        processors = []
        if first.logit_bias:
            processors.append(_bias_processor(first.logit_bias, self._model.config.vocab_size, self.device))
        if first.frequency_penalty:
            processors.append(_frequency_processor(first.frequency_penalty, enc["input_ids"].shape[1]))
        with torch.no_grad():
            out = self._model.generate(
                **enc,
                max_new_tokens=first.max_tokens,
                pad_token_id=tok.pad_token_id,
                logits_processor=processors or None,
                return_dict_in_generate=True,
                output_logits=first.top_logprobs > 0,
                **sampling,
            )
        tops = self._first_token_logprobs(out.logits[0], first.top_logprobs) if first.top_logprobs else None
        completions = []
        rows = out.sequences[:, enc["input_ids"].shape[1] :].tolist()
        for i, (row, mask) in enumerate(zip(rows, enc["attention_mask"])):
            if tok.eos_token_id in row:
                row = row[: row.index(tok.eos_token_id) + 1]
            text = tok.decode(row, skip_special_tokens=True)
            top = tops[i] if tops else ()
            completions.append(Completion(text.strip(), self._content(row), int(mask.sum()), len(row), top))
        return completions

    def _first_token_logprobs(self, logits: Any, k: int) -> list[tuple[tuple[str, float], ...]]:
        """Per batch row, the `k` likeliest first tokens (decoded) and their log-probabilities."""
        import torch

        values, ids = torch.log_softmax(logits.float(), dim=-1).topk(k, dim=-1)
        decode = self._tokenizer.decode
        return [tuple((decode([i]), float(v)) for i, v in zip(row_ids.tolist(), row_values.tolist()))
                for row_ids, row_values in zip(ids, values)]


def _is_path(model: str) -> bool:
    """Whether `model` is written as a local path (./x, ../x, /x, ~/x) rather than a Hub model id."""
    return model.startswith((".", "/", "~", "\\")) or os.path.isabs(model)
