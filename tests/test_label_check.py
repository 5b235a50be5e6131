"""The label check's parts: verdicts, prototypes, softmax, pass rates, warnings and the planning they steer."""

import numpy as np
import pytest

from hf_llmgen.generation.label_check import (
    REFIT_EVERY, EmbeddingChecker, LabelChecker, ProxyChecker, Verdict, choice_probabilities, prototype_texts,
    softmax,
)
from hf_llmgen.generation.prompts import choice_messages
from hf_llmgen.generation.plan import round_labels
from hf_llmgen.generation.runner import GenerationStats, pass_rate_warnings
from hf_llmgen.metrics import EmbeddingCache
from hf_llmgen.metrics.labels import pass_rates
from hf_llmgen.task import TaskSpecError, load_task, parse_task

TASK = {
    "text_type": "review",
    "labels": [
        {"name": "bad", "description": "the writer hates it", "keywords": ["awful", "boring"]},
        {"name": "good", "description": "the writer loves it"},
    ],
}


class FixedScores(LabelChecker):
    """A checker whose scores are given: it exercises `check`'s arithmetic on plain arrays."""

    name = "fixed"

    def __init__(self, task, scores):
        super().__init__(task)
        self.scores = np.array(scores, dtype=float)

    def probabilities(self, texts):
        return self.scores[: len(texts)]


def test_a_verdict_names_the_top_label_and_passes_when_it_is_the_prompted_one():
    task = parse_task(TASK)
    checker = FixedScores(task, [[0.9, 0.1], [0.3, 0.7], [0.0, 0.0]])
    assert checker.check(["a", "b", "c"], ["bad", "bad", "good"]) == [
        Verdict("bad", 0.9, True), Verdict("good", 0.7, False), Verdict("", 0.0, True),  # zeros: an abstention
    ]
    assert checker.check([], []) == []


def test_a_label_set_passes_when_the_check_names_one_of_its_labels():
    task = load_task("goemotions")
    names = task.label_names
    scores = np.zeros((1, len(names)))
    scores[0, names.index("joy")] = 1.0
    assert FixedScores(task, scores).check(["x"], ["excitement + joy"])[0].passed
    assert not FixedScores(task, scores).check(["x"], ["anger + fear"])[0].passed


def test_prototypes_are_the_description_and_the_keywords():
    assert prototype_texts(parse_task(TASK)) == {"bad": ["bad: the writer hates it", "awful, boring"],
                                                 "good": ["good: the writer loves it"]}


def test_softmax_rows_sum_to_one_and_keep_the_order():
    out = softmax(np.array([[0.1, 0.3], [0.5, 0.5]]), temperature=0.05)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert out[0, 1] > 0.98 and np.allclose(out[1], [0.5, 0.5])


def test_the_embedding_check_reads_plain_sentiment_with_the_packaged_model(tmp_path):
    cache = EmbeddingCache(path=str(tmp_path / "embeddings.sqlite"))
    checker = EmbeddingChecker(load_task("sst2"), cache.embed)
    verdicts = checker.check(["A boring, awful waste of two hours.", "A brilliant, moving film, a joy to watch."],
                             ["negative", "negative"])
    assert [v.label for v in verdicts] == ["negative", "positive"]
    assert [v.passed for v in verdicts] == [True, False]
    assert all(0.5 < v.score <= 1.0 for v in verdicts)
    cache.close()


def test_the_proxy_check_is_refitted_on_the_rows_that_passed_and_human_labels_win(tmp_path):
    human = {"A boring, awful waste of two hours.": "negative", "Dull and lifeless from start to end.": "negative",
             "Flat jokes and a plot that goes nowhere.": "negative", "A brilliant, moving film.": "positive",
             "Funny, warm and a joy to watch.": "positive", "The best performance of the year.": "positive"}
    checker = ProxyChecker(load_task("sst2"), human, str(tmp_path / "embeddings.sqlite"))
    rows = [(f"Meal {i}: the soup was cold and the waiter rude.", "negative") if i % 2 else
            (f"Meal {i}: every dish was a delight.", "positive") for i in range(REFIT_EVERY - 1)]
    checker.learn([t for t, _ in rows], [label for _, label in rows])
    assert checker.refits == 0
    conflict = next(iter(human))  # a text the human labelled negative, accepted as positive
    checker.learn([conflict, "Meal 99: bland, greasy and overpriced.", "a label set"], ["positive", "negative", "x + y"])
    assert checker.refits == 1
    fitted = checker.proxy.human  # what the proxy was fitted on
    assert len(fitted) == len(human) + REFIT_EVERY - 1 + 1 and fitted[conflict] == "negative"
    verdicts = checker.check(["Meal 7: the soup was cold and the waiter rude."], ["negative"])
    assert verdicts[0].label == "negative"


def test_pass_rates_count_agreements_and_abstentions_per_label():
    rates = pass_rates(["a", "a", "b", "a"], ["a", "b", "b", ""], ["a", "b", "c"])
    assert rates == {"a": {"checked": 3, "passed": 2, "pass_rate": 2 / 3},
                     "b": {"checked": 1, "passed": 1, "pass_rate": 1.0},
                     "c": {"checked": 0, "passed": 0, "pass_rate": None}}


def test_a_warning_for_each_label_below_half():
    stats = GenerationStats()
    stats.checked.update({"a": 10, "b": 10})
    stats.passed.update({"a": 4, "b": 5})
    (warning,) = pass_rate_warnings(stats.to_dict()["label_check"], "embedding")
    assert warning.startswith("label 'a': only 4 of 10 candidates (40%) passed the 'embedding' label check")


def test_stats_round_trip_and_add_with_the_check_counts():
    stats = GenerationStats(rows=3, relabelled=1)
    stats.checked.update({"a": 4})
    stats.passed.update({"a": 3})
    again = GenerationStats.from_dict(stats.to_dict())
    again.add(stats)
    assert again.to_dict()["label_check"] == {"a": {"checked": 8, "passed": 6, "pass_rate": 0.75}}
    assert again.relabelled == 2 and again.rows == 6


def test_a_label_that_fails_the_check_gets_more_requests():
    assert round_labels({"a": 4, "b": 4}, 1, 16, {"a": 1.0, "b": 0.5}) == ["a", "b"] * 4 + ["b"] * 4
    assert round_labels({"a": 2, "b": 2}, 1, 16, {"a": 1.0, "b": 0.0}) == ["a", "b", "a"] + ["b"] * 7  # floor 1/4


def test_keywords_parse_and_labels_differing_only_in_case_are_refused():
    assert parse_task(TASK).label("bad").keywords == ("awful", "boring")
    bad = {**TASK, "labels": [{"name": "Good", "description": "x"}, {"name": "good", "description": "y"}]}
    with pytest.raises(TaskSpecError, match="duplicate label name 'good'"):
        parse_task(bad)
    with pytest.raises(TaskSpecError, match=r"task.labels\[0\].keywords"):
        parse_task({**TASK, "labels": [{"name": "a", "description": "x", "keywords": "awful"}, TASK["labels"][1]]})


def test_choice_probabilities_read_the_option_numbers_among_the_first_tokens():
    top = [("1", np.log(0.3)), ("The", np.log(0.4)), (" 1", np.log(0.1)), ("2", np.log(0.2)), ("7", np.log(0.05))]
    probabilities = choice_probabilities(top, 3)  # "1" and " 1" are the same answer; 7 is no option
    np.testing.assert_allclose(probabilities, [0.4 / 0.6, 0.2 / 0.6, 0.0])
    assert not choice_probabilities([("The", -0.1), ("10", -2.0)], 3).any()  # no option named: an abstention


def test_a_numbered_choice_lists_the_labels_and_takes_at_most_nine():
    [message] = choice_messages("a dull film", ["negative", "positive"], {"negative": "the critic dislikes it"})
    assert "1. negative: the critic dislikes it\n2. positive\n" in message["content"]
    with pytest.raises(ValueError, match="at most 9 labels"):
        choice_messages("text", [f"label{i}" for i in range(10)], {})
