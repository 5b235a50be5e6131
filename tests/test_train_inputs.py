"""Bad training input is refused with the field named, before any model loads."""

import datasets
import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from hf_llmgen.callback import DataQualityCallback
from hf_llmgen.metrics.report import class_names
from hf_llmgen.train import encode_labels, train_classifier, training_epochs


def test_integer_labels_without_names_must_be_cast():
    data = datasets.Dataset.from_dict({"text": ["a b c", "d e f"], "label": [0, 1]})
    with pytest.raises(ValueError, match="label_column: 'label' holds .* cast it to a ClassLabel"):
        class_names(data, "label")


def test_evaluation_labels_outside_the_training_labels_are_named():
    data = datasets.Dataset.from_dict({"text": ["x", "y"], "label": ["spam", "eggs"]})
    with pytest.raises(ValueError, match=r"label: labels \['eggs'\] are not among the training labels \['ham', 'spam'\]"):
        encode_labels(data, "label", ["ham", "spam"])


def test_labels_are_matched_by_name_not_position():
    names = ["negative", "positive"]
    data = datasets.Dataset.from_dict({"text": ["x", "y"], "label": [0, 1]})
    data = data.cast_column("label", datasets.ClassLabel(names=["positive", "negative"]))
    encoded = encode_labels(data, "label", names)
    assert encoded.features["label"].names == names and encoded["label"] == [1, 0]


def test_a_small_set_trains_for_more_epochs_to_reach_the_minimum_steps():
    assert training_epochs(180, 3.0, 16, min_steps=100) == 100 / 12  # 12 steps an epoch: 100 steps, not 36
    assert training_epochs(2000, 3.0, 16, min_steps=100) == 3.0  # 375 steps already
    assert training_epochs(180, 3.0, 16, min_steps=0) == 3.0


def test_missing_text_column_is_named(tmp_path):
    data = datasets.Dataset.from_dict({"sentence": ["x", "y"], "label": ["a", "b"]})
    with pytest.raises(ValueError, match="text_column: the train set has no column 'text'"):
        train_classifier(data, str(tmp_path))


def test_the_callback_says_how_to_give_it_the_trainer(tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none")
    with pytest.raises(RuntimeError, match=r"call callback.set_trainer\(trainer\)"):
        DataQualityCallback().on_train_begin(args, TrainerState(), TrainerControl())
