"""The targeted-data pieces that need no model: threshold and error arithmetic, grouping, hypothesis parsing,
hypotheses files, the targeted prompt and quotas, and the option errors raised before any model loads."""

import datasets
import numpy as np
import pytest
import yaml

from hf_llmgen.generation.prompts import build_messages
from hf_llmgen.generation.runner import shard_quotas
from hf_llmgen.generation.settings import GenerationSettings
from hf_llmgen.targeted.blind_spots import BlindSpot, Predictions, confidence_threshold, confident_errors, group_errors
from hf_llmgen.targeted.hypotheses import parse_hypothesis, save_hypotheses, with_error_texts
from hf_llmgen.targeted.loop import scores
from hf_llmgen.task import Target, TaskSpecError, load_task, parse_task, read_targets

NAMES = ["negative", "positive"]
SARCASM = {"label": "negative", "hypothesis": "Sarcastic praise of a bad film.", "mistaken_for": "positive"}


def _predictions(labels, predicted, confidence):
    return Predictions(labels, predicted, np.array(confidence, dtype=np.float32))


def test_the_threshold_is_the_median_confidence_of_correct_predictions():
    p = _predictions(["a", "a", "b", "b", "b"], ["a", "a", "b", "a", "a"], [0.6, 0.8, 0.7, 0.9, 0.65])
    assert confidence_threshold(p) == pytest.approx(0.7)
    assert confident_errors(p, 0.7) == [3]
    assert confident_errors(p, 0.6) == [3, 4]
    assert confidence_threshold(_predictions(["a"], ["b"], [0.9])) == 0.5  # none right: a plain default


def test_scores_count_errors_at_the_fixed_and_at_the_models_own_threshold():
    p = _predictions(["a", "a", "b", "b", "b"], ["a", "a", "b", "a", "a"], [0.6, 0.8, 0.7, 0.9, 0.65])
    found = scores(p, threshold=0.6, own_threshold=0.7)
    assert found["accuracy"] == pytest.approx(0.6) and found["rows"] == 5
    assert found["confident_errors"] == 2 and found["confident_errors_own_threshold"] == 1
    assert found["own_threshold"] == 0.7


def test_errors_are_grouped_by_label_pair_then_by_similar_texts():
    close_together = [[0.01 * i, 0.0] for i in range(4)]
    vectors = np.array(close_together + [[10 + x, 10 + y] for x, y in close_together] + [[5.0, 5.0]],
                       dtype=np.float32)
    pairs = [("neg", "pos")] * 8 + [("pos", "neg")]
    groups = group_errors(list(range(100, 109)), pairs, vectors, rows_per_spot=4, max_spots_per_pair=3)
    assert sorted(map(sorted, groups)) == [[100, 101, 102, 103], [104, 105, 106, 107], [108]]
    assert len(groups[-1]) == 1  # the largest groups first
    capped = group_errors(list(range(9)), pairs, vectors, rows_per_spot=1, max_spots_per_pair=2)
    assert len(capped) == 3 and sorted(len(g) for g in capped) == [1, 4, 4]


@pytest.mark.parametrize("answer, expected", [
    ("Texts that praise the cast but hate the plot. They are long.",
     ("Texts that praise the cast but hate the plot.", "")),
    ("Hypothesis: Texts that use irony.\nMore lines", ("Texts that use irony.", "")),
    ('"Texts that quote other critics."', ("Texts that quote other critics.", "")),
    ("", (None, "empty")),
    ("Texts that mislead:", (None, "preamble")),
    ("Yes.", (None, "too_short")),
    ("These texts share a common thread of being negative and condoning a film.",
     ("Negative and condoning a film.", "")),
    ("The texts share a common thread of science and technology news, but their differences lie in their tone.",
     ("Science and technology news.", "")),
    ("These texts share a common thread of negative sentiment, but they differ in their tone and style.",
     ("Negative sentiment.", "")),
    ("These texts share a common thread of positive words, but they also hide a negative verdict.",
     ("Positive words, but they also hide a negative verdict.", "")),
])
def test_a_hypothesis_is_the_answer_s_first_sentence(answer, expected):
    assert parse_hypothesis(answer) == expected


def test_a_long_hypothesis_is_cut_to_thirty_words():
    hypothesis, _ = parse_hypothesis("Texts that " + " ".join(["word"] * 50))
    assert len(hypothesis.split()) == 30


def test_hypotheses_files_round_trip_and_ignore_the_review_fields(tmp_path):
    path = str(tmp_path / "hypotheses.yaml")
    target = Target("negative", "Sarcastic praise.", "positive", "llm", ("Oh great, two more hours.",))
    save_hypotheses(path, [target], header={"threshold": 0.9})
    data = yaml.safe_load(open(path, encoding="utf-8"))
    assert data["threshold"] == 0.9 and data["hypotheses"][0]["hypothesis"] == "Sarcastic praise."
    data["hypotheses"][0].update(errors=12, mean_confidence=0.97)  # what the loop writes beside each entry
    data["hypotheses"].append({"label": "positive", "hypothesis": "Dark words as praise."})
    yaml.safe_dump(data, open(path, "w", encoding="utf-8"))
    assert read_targets(path, NAMES) == (target, Target("positive", "Dark words as praise."))


@pytest.mark.parametrize("entries, message", [
    ([{**SARCASM, "label": "neutral"}], r"targets\[0\]\.label: 'neutral' is not one of the task's labels"),
    ([{**SARCASM, "mistaken_for": "mixed"}], r"targets\[0\]\.mistaken_for: 'mixed'"),
    ([{**SARCASM, "source": "gpt"}], r"targets\[0\]\.source: 'gpt'; use one of \('human', 'llm'\)"),
    ([{**SARCASM, "hypotesis": "typo"}], r"unknown field\(s\) \['hypotesis'\]"),
    ([{"label": "negative", "hypothesis": " "}], r"targets\[0\]\.hypothesis: must say in words"),
    ([], "there are no hypotheses"),
])
def test_bad_hypotheses_name_the_entry_and_field(entries, message):
    with pytest.raises(TaskSpecError, match=message):
        read_targets(entries, NAMES)


def test_a_file_without_a_hypotheses_list_says_what_is_expected(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text("- label: negative\n", encoding="utf-8")
    with pytest.raises(TaskSpecError, match="expected a mapping with a `hypotheses` list"):
        read_targets(str(path), NAMES)


def test_targets_round_trip_in_a_task_and_stay_out_of_one_without_them():
    spec = load_task("sst2").to_dict()
    assert "targets" not in spec
    with_targets = parse_task({**spec, "targets": [{**SARCASM, "texts": ["Oh great."]}]})
    assert with_targets.targets == (Target("negative", SARCASM["hypothesis"], "positive", "human", ("Oh great.",)),)
    assert parse_task(with_targets.to_dict()) == with_targets


def test_the_targeted_prompt_states_the_label_the_hypothesis_and_the_confusion():
    task = load_task("sst2")
    target = Target("negative", "Sarcastic praise of a bad film.", "positive")
    [message] = build_messages(task, "targeted", "negative", [], 1, target=target)
    text = message["content"]
    assert "\nSarcastic praise of a bad film.\n" in text  # on its own line: a text copying it is cut
    assert task.label("negative").description in text and task.label("positive").description in text
    with pytest.raises(ValueError, match="give the request its target"):
        build_messages(task, "targeted", "negative", [], 1)


def test_targeted_quotas_go_to_labels_with_targets_by_their_number():
    task = parse_task({**load_task("trec").to_dict(), "targets": [
        {"label": "LOC", "hypothesis": "Questions about where a person lives."},
        {"label": "LOC", "hypothesis": "Questions naming a company."},
        {"label": "HUM", "hypothesis": "Questions about a group of people."},
    ]})
    quotas = shard_quotas(task, GenerationSettings(num_examples=12, prompt="targeted"), 0)
    assert quotas["LOC"] == 8 and quotas["HUM"] == 4 and sum(quotas.values()) == 12


@pytest.mark.parametrize("options, message", [
    ({"prompt": "targeted"}, "prompt: 'targeted' writes texts for a classifier's blind spots; give them with targets"),
    ({"targets": [SARCASM]}, "targets: they are read by prompt='targeted' only"),
    ({"prompt": "targeted", "targets": [{**SARCASM, "label": "neutral"}]}, "'neutral' is not one of the task's"),
])
def test_targeted_options_are_checked_before_any_model_loads(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        datasets.load_dataset_builder("hf_llmgen", "sst2", cache_dir=str(tmp_path), **options)


def test_hand_written_targets_without_texts_get_the_errors_of_their_label_pair():
    spots = [BlindSpot("negative", "positive", [0, 1, 2, 3], ["a", "b", "c", "d"], [0.99] * 4),
             BlindSpot("positive", "negative", [4], ["e"], [0.98]),
             BlindSpot("negative", "positive", [5], ["f"], [0.97])]
    own = Target("negative", "Own texts.", "positive", "human", ("mine",))
    targets = [Target("negative", "Sarcasm.", "positive"), Target("negative", "Irony.", "positive"),
               Target("negative", "Deadpan.", "positive"), own, Target("positive", "Dark praise.", "negative"),
               Target("positive", "No pair.", "")]
    filled = with_error_texts(targets, spots)
    assert [target.texts for target in filled] == [("a", "b", "c"), ("f",), ("a", "b", "c"), ("mine",), ("e",), ()]
    assert [target.hypothesis for target in filled] == [target.hypothesis for target in targets]
