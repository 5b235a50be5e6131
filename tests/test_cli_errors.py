"""Edge inputs on the command line end in one line naming the fix, before any model loads."""

import json

import datasets
import pytest

from hf_llmgen.backends.hf import TransformersBackend
from hf_llmgen.cli import main


@pytest.fixture
def saved(tmp_path):
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["a", "b"])})
    folder = tmp_path / "data"
    datasets.Dataset.from_dict({"text": ["one", "two", "three"], "label": [0, 1, 0]}, features=features
                               ).save_to_disk(str(folder))
    return folder


def test_a_misspelt_flag_names_the_closest_flag_of_its_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "sst2", "--output", "o", "--temprature", "1"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --temprature 1; did you mean --temperature?" in capsys.readouterr().err


def test_a_missing_model_folder_is_named_as_a_path_not_a_hub_id(tmp_path):
    with pytest.raises(ValueError, match="model: folder './missing-folder' does not exist"):
        TransformersBackend("./missing-folder")
    assert TransformersBackend("org/name").model_name == "org/name"  # a Hub id: nothing loads until the first request


def test_annotate_import_of_a_missing_file(saved, capsys):
    assert main(["annotate", str(saved), "--import", str(saved / "missing.csv")]) == 2
    assert "missing.csv is not a file; give the sample" in capsys.readouterr().err


def test_a_labels_file_with_a_label_the_dataset_lacks_is_refused_before_the_page(saved, capsys):
    (saved / "human_labels.jsonl").write_text(json.dumps({"row": 1, "text": "two", "label": "c"}) + "\n")
    assert main(["annotate", str(saved), "--n", "2", "--strategy", "random", "--export", str(saved / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "human_labels.jsonl: row 1: label 'c' is not one of ['a', 'b']" in err and "Fix or delete" in err
    assert not (saved / "x.csv").exists()


def test_debug_shows_the_error_itself(saved):
    with pytest.raises(ValueError, match="missing.csv is not a file"):
        main(["--debug", "annotate", str(saved), "--import", str(saved / "missing.csv")])
