"""Publishing to the Hugging Face Hub: a dataset folder (its splits, card and run files) or a model folder from
`hf-llmgen train` (its files, as `Trainer.push_to_hub` sends them, with its model card)."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass

import datasets
from huggingface_hub import CommitOperationAdd, DatasetCard, HfApi, ModelCard
from huggingface_hub.errors import HfHubHTTPError

from .folders import CARD, RUN_FILES, SPLITS, saved_split

MODEL_CONFIG = "config.json"  # what makes a folder a model folder
NOT_PUSHED_WITH_A_MODEL = ("_*", "checkpoint-*", ".partial-*")  # Trainer.push_to_hub's, and our staging folders


class PushError(Exception):
    """A push that could not start or did not finish; the message says what arrived and what to do."""


@dataclass
class PushResult:
    repo_id: str
    url: str
    private: bool
    files: list[str]


def read_token(token_env: str) -> str:
    """The token from the environment variable `token_env`; an error saying how to set it when it is empty."""
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise PushError(f"--token-env: the environment variable {token_env} holds no token; make a token with write "
                        f"access at https://huggingface.co/settings/tokens and export {token_env}=<token>.")
    return token


def _check_reachable(api: HfApi) -> None:
    """Ask the Hub who the token belongs to: no network and a refused token both fail here, before any upload."""
    try:
        api.whoami()
    except HfHubHTTPError as err:
        raise PushError(f"the Hub at {api.endpoint} refused the token ({err.response.status_code}); "
                        "give a token with write access.") from None
    except Exception as err:  # the HTTP client's connection errors have no common base in huggingface_hub
        raise PushError(f"cannot reach the Hub at {api.endpoint} ({err}); check the network (or HF_ENDPOINT) "
                        "and push again.") from None


def push(folder: str, repo_id: str, *, private: bool = True, revision: str | None = None,
         token_env: str = "HF_TOKEN", license: str | None = None,
         source_datasets: list[str] | None = None) -> PushResult:
    """Push a dataset folder to a dataset repo: every split it holds (train, removed) with
    `DatasetDict.push_to_hub`, then its card (with the Hub's split metadata merged in) and run files in one
    commit. A model folder (one with a config.json, as `hf-llmgen train` writes) goes to a model repo instead,
    in one commit. Private unless `private=False`. `license` and `source_datasets` (the Hub ids of real data
    the rows drew on: seed examples, human labels taken from a real set) go into the card's metadata.

    The token is read from `token_env` now and passed to each call; it is written nowhere. A second push of an
    unchanged folder sends nothing again: files already on the Hub with the same content are skipped.
    """
    is_model = os.path.exists(os.path.join(folder, MODEL_CONFIG))
    splits = {name: data for name in SPLITS if (data := saved_split(folder, name)) is not None}
    if not is_model and "train" not in splits:
        raise PushError(f"{folder}: holds no train split (train/ or train.parquet) and no {MODEL_CONFIG}; give a "
                        "folder written by `hf-llmgen generate`, `relabel`, `filter` or `train`.")
    card_path = os.path.join(folder, CARD)
    card_class = ModelCard if is_model else DatasetCard
    card = card_class.load(card_path) if os.path.exists(card_path) else card_class("")  # a folder not ours
    if license:
        card.data.license = license
    if source_datasets:
        card.data.source_datasets = source_datasets
    token = read_token(token_env)
    api = HfApi(token=token)
    _check_reachable(api)
    if is_model:
        return _push_model(api, folder, repo_id, card, private, revision)
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        datasets.DatasetDict(splits).push_to_hub(repo_id, token=token, revision=revision,
                                                 commit_message="Upload the generated rows")
    except (HfHubHTTPError, OSError) as err:
        raise PushError(f"the rows of {repo_id} did not all arrive ({err}); run the same push again: shards "
                        "that arrived are not sent twice.") from None
    return _push_card(api, folder, repo_id, card, revision, str(url))


def _push_card(api: HfApi, folder: str, repo_id: str, card: DatasetCard, revision: str | None,
               url: str) -> PushResult:
    """Commit the card, with the split metadata `push_to_hub` wrote on the Hub, and the run files."""
    pushed = DatasetCard.load(api.hf_hub_download(repo_id, CARD, repo_type="dataset", revision=revision))
    for key in ("dataset_info", "configs"):
        if key in pushed.data.to_dict():
            card.data[key] = pushed.data[key]
    names = [name for name in RUN_FILES if os.path.exists(os.path.join(folder, name))]
    operations = [CommitOperationAdd(CARD, str(card).encode("utf-8"))] + [
        CommitOperationAdd(name, os.path.join(folder, name)) for name in names]
    try:
        api.create_commit(repo_id, operations, commit_message="Upload the dataset card and run summaries",
                          repo_type="dataset", revision=revision)
    except (HfHubHTTPError, OSError) as err:
        raise PushError(f"the rows of {repo_id} arrived but its card and {names} did not ({err}); run the same "
                        "push again: the rows are not sent twice.") from None
    return _pushed(api, repo_id, "dataset", revision, url)


def _pushed(api: HfApi, repo_id: str, repo_type: str, revision: str | None, url: str) -> PushResult:
    """What the repo holds after a push, and its real visibility (an existing repo keeps its own)."""
    files = api.list_repo_files(repo_id, repo_type=repo_type, revision=revision)
    private = api.repo_info(repo_id, repo_type=repo_type).private
    return PushResult(repo_id=repo_id, url=url, private=bool(private), files=sorted(files))


def _model_files(folder: str) -> list[str]:
    """The folder's files as repo paths, but checkpoints, staging leftovers and the card."""
    paths = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            if path != CARD and not any(fnmatch.fnmatch(path, pattern) for pattern in NOT_PUSHED_WITH_A_MODEL):
                paths.append(path)
    return sorted(paths)


def _push_model(api: HfApi, folder: str, repo_id: str, card: ModelCard, private: bool,
                revision: str | None) -> PushResult:
    """Upload a model folder's files and its card in one commit."""
    operations = [CommitOperationAdd(CARD, str(card).encode("utf-8"))] + [
        CommitOperationAdd(path, os.path.join(folder, path)) for path in _model_files(folder)]
    try:
        url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
        api.create_commit(repo_id, operations, commit_message="Upload the classifier and its card",
                          repo_type="model", revision=revision)
    except (HfHubHTTPError, OSError) as err:
        raise PushError(f"the model {repo_id} did not arrive ({err}); run the same push again: large files that "
                        "arrived are not sent twice.") from None
    return _pushed(api, repo_id, "model", revision, str(url))
