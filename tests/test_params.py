from pathlib import Path

import pytest
import yaml

from ctc_asr import params
from ctc_asr.errors import UserError

REPO_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def repo_params() -> dict:
    return yaml.safe_load(REPO_PARAMS.read_text())


def test_repo_params_yaml_validates():
    loaded = params.load(REPO_PARAMS)
    raw = repo_params()
    assert isinstance(loaded, params.Params)
    assert loaded.train.learning_rate == raw["train"]["learning_rate"]
    assert loaded.model.scratch == raw["model"]["scratch"]


def test_unknown_key_is_rejected_by_dotted_name():
    raw = repo_params()
    raw["train"]["lerning_rate"] = 1e-3
    with pytest.raises(UserError, match=r"train\.lerning_rate"):
        params.parse(raw)


def test_unknown_nested_key_is_rejected_by_dotted_name():
    raw = repo_params()
    raw["data"]["synthetic"]["speekers"] = 3
    with pytest.raises(UserError, match=r"data\.synthetic\.speekers"):
        params.parse(raw)


def test_wrong_type_names_the_key():
    raw = repo_params()
    raw["train"]["epochs"] = "many"
    with pytest.raises(UserError, match=r"train\.epochs") as error:
        params.parse(raw)
    assert "many" in str(error.value)


@pytest.mark.parametrize("min_seconds, max_seconds", [(2.0, 2.0), (3.0, 1.0)])
def test_max_seconds_must_exceed_min_seconds(min_seconds, max_seconds):
    raw = repo_params()
    raw["filter"] = {"min_seconds": min_seconds, "max_seconds": max_seconds}
    with pytest.raises(UserError, match="max_seconds") as error:
        params.parse(raw)
    assert "filter" in str(error.value)


def test_valid_filter_window_is_accepted():
    cfg = params.parse({"filter": {"min_seconds": 1.0, "max_seconds": 2.5}})
    assert (cfg.filter.min_seconds, cfg.filter.max_seconds) == (1.0, 2.5)


def test_inverted_range_is_rejected():
    with pytest.raises(UserError, match="pitch"):
        params.parse({"data": {"synthetic": {"pitch": [80, 20]}}})


def test_non_mapping_yaml_is_rejected(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(UserError, match="mapping") as error:
        params.load(path)
    assert str(path) in str(error.value)


def test_invalid_yaml_is_rejected(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("train: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        params.load(path)


def test_missing_file_is_rejected(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(UserError, match="nope.yaml"):
        params.load(path)


def test_empty_file_gives_defaults(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("")
    assert params.load(path) == params.Params()


def test_params_are_frozen():
    cfg = params.Params()
    with pytest.raises(Exception):
        cfg.train.epochs = 3


@pytest.mark.parametrize("source, key", [("timit", "root"), ("hub", "name"), ("manifest", "path")])
def test_source_without_its_required_key_is_rejected(source, key):
    with pytest.raises(UserError, match=rf"{source}\.{key}") as error:
        params.parse({"data": {"source": source}})
    assert str(error.value).startswith("params: data")


@pytest.mark.parametrize("source, section", [("timit", {"root": "/corpora/timit"}), ("hub", {"name": "org/set"}),
                                             ("manifest", {"path": "list.csv"})])
def test_source_with_its_required_key_is_accepted(source, section):
    cfg = params.parse({"data": {"source": source, source: section}})
    assert cfg.data.source == source and getattr(cfg.data, source).model_dump(exclude_defaults=True) == section


def test_on_error_must_be_fail_or_skip():
    with pytest.raises(UserError, match=r"data\.on_error") as error:
        params.parse({"data": {"on_error": "ignore"}})
    assert "ignore" in str(error.value)
    assert params.parse({"data": {"on_error": "skip"}}).data.on_error == "skip"


def test_unknown_timit_key_is_rejected_by_dotted_name():
    with pytest.raises(UserError, match=r"data\.timit\.rooot"):
        params.parse({"data": {"source": "timit", "timit": {"root": "/x", "rooot": "/x"}}})
