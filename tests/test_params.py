from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from ctc_asr.core import params
from ctc_asr.core.errors import UserError

REPO_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def repo_params(**sections) -> dict:
    """params.yaml as a mapping, with whole sections' keys changed: repo_params(data={"on_error": "skip"})."""
    raw = yaml.safe_load(REPO_PARAMS.read_text())
    for name, changes in sections.items():
        raw[name] = {**raw[name], **changes}
    return raw


def test_repo_params_yaml_validates():
    loaded = params.load(REPO_PARAMS)
    raw = repo_params()
    assert isinstance(loaded, params.Params)
    assert loaded.train.learning_rate == raw["train"]["learning_rate"]
    assert loaded.model.scratch == raw["model"]["scratch"]


def sections(model: type[BaseModel]):
    yield model
    for field in model.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from sections(field.annotation)


def test_no_field_has_a_default_of_its_own():
    # params.yaml is the one home of every value: a default here could silently disagree with it
    with_defaults = [f"{model.__name__}.{name}" for model in sections(params.Params)
                     for name, field in model.model_fields.items() if not field.is_required()]
    assert with_defaults == []


def test_a_missing_key_is_named():
    raw = repo_params()
    del raw["data"]["synthetic"]["seed"]
    with pytest.raises(UserError, match=r"data\.synthetic\.seed: Field required"):
        params.parse(raw)


def test_unknown_key_is_rejected_by_dotted_name():
    with pytest.raises(UserError, match=r"train\.lerning_rate"):
        params.parse(repo_params(train={"lerning_rate": 1e-3}))


def test_unknown_nested_key_is_rejected_by_dotted_name():
    raw = repo_params()
    raw["data"]["synthetic"]["speekers"] = 3
    with pytest.raises(UserError, match=r"data\.synthetic\.speekers"):
        params.parse(raw)


def test_wrong_type_names_the_key():
    with pytest.raises(UserError, match=r"train\.epochs") as error:
        params.parse(repo_params(train={"epochs": "many"}))
    assert "many" in str(error.value)


@pytest.mark.parametrize("min_seconds, max_seconds", [(2.0, 2.0), (3.0, 1.0)])
def test_max_seconds_must_exceed_min_seconds(min_seconds, max_seconds):
    with pytest.raises(UserError, match="max_seconds") as error:
        params.parse(repo_params(filter={"min_seconds": min_seconds, "max_seconds": max_seconds}))
    assert "filter" in str(error.value)


def test_valid_filter_window_is_accepted():
    cfg = params.parse(repo_params(filter={"min_seconds": 1.0, "max_seconds": 2.5}))
    assert (cfg.filter.min_seconds, cfg.filter.max_seconds) == (1.0, 2.5)


def test_inverted_range_is_rejected():
    raw = repo_params()
    raw["data"]["synthetic"]["pitch"] = [80, 20]
    with pytest.raises(UserError, match="pitch"):
        params.parse(raw)


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
    with pytest.raises(UserError, match=r"nope\.yaml"):
        params.load(path)


def test_an_empty_file_names_the_missing_sections(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("")
    with pytest.raises(UserError, match=r"data: Field required.*train: Field required"):
        params.load(path)


def test_params_are_frozen():
    cfg = params.load(REPO_PARAMS)
    with pytest.raises(Exception, match="frozen"):
        cfg.train.epochs = 3


def test_replace_validates_the_changes():
    train = params.load(REPO_PARAMS).train
    assert train.replace(epochs=2).epochs == 2 and train.epochs != 2
    with pytest.raises(Exception, match="epochs"):
        train.replace(epochs=-1)


@pytest.mark.parametrize("source, key", [("timit", "root"), ("hub", "name"), ("manifest", "path"),
                                         ("librispeech", "root"), ("common_voice", "root"), ("kaldi", "root")])
def test_source_without_its_required_key_is_rejected(source, key):
    with pytest.raises(UserError, match=rf"{source}\.{key}") as error:
        params.parse(repo_params(data={"source": source}))
    assert str(error.value).startswith("params: data")


@pytest.mark.parametrize("source, key, value", [("timit", "root", "/corpora/timit"), ("hub", "name", "org/set"),
                                                ("manifest", "path", "list.csv"), ("librispeech", "root", "/corpora/ls"),
                                                ("common_voice", "root", "/corpora/cv/en"), ("kaldi", "root", "/egs/x/s5")])
def test_source_with_its_required_key_is_accepted(source, key, value):
    raw = repo_params(data={"source": source})
    raw["data"][source][key] = value
    cfg = params.parse(raw)
    assert cfg.data.source == source and getattr(getattr(cfg.data, source), key) == value


def test_on_error_must_be_fail_or_skip():
    with pytest.raises(UserError, match=r"data\.on_error") as error:
        params.parse(repo_params(data={"on_error": "ignore"}))
    assert "ignore" in str(error.value)
    assert params.parse(repo_params(data={"on_error": "skip"})).data.on_error == "skip"


def test_unknown_timit_key_is_rejected_by_dotted_name():
    raw = repo_params(data={"source": "timit"})
    raw["data"]["timit"].update(root="/x", rooot="/x")
    with pytest.raises(UserError, match=r"data\.timit\.rooot"):
        params.parse(raw)


@pytest.mark.parametrize("order", [1, 7, 9, -1])
def test_an_lm_order_kenlm_cannot_read_is_named(order):
    with pytest.raises(UserError) as error:
        params.parse(repo_params(ngram={"order": order}))
    assert str(error.value) == (f"params: ngram.order: 0 (no LM) or 2 to 6 (KenLM reads neither a unigram-only model "
                                f"nor one above order 6) (got {order})")


@pytest.mark.parametrize("order", [0, 2, 6])
def test_lm_orders_kenlm_reads_are_accepted(order):
    assert params.parse(repo_params(ngram={"order": order})).ngram.order == order


def with_scratch(**fields) -> dict:
    raw = repo_params()
    raw["model"]["scratch"].update(fields)
    return raw


@pytest.mark.parametrize("fields, says", [
    (dict(hidden_size="big"), "model.scratch.hidden_size: Input should be a valid integer"),
    (dict(hidden_size=0), "model.scratch.hidden_size: Input should be greater than or equal to 1"),
    (dict(hidden_size=250), "model.scratch.hidden_size: 250 is not a multiple of num_attention_heads (4)"),
    (dict(hidden_size=260, num_attention_heads=5),
     "model.scratch.hidden_size: 260 is not a multiple of num_conv_pos_embedding_groups (16)"),
    (dict(conv_dim=[32, 64]), "model.scratch.conv_dim: conv_dim, conv_kernel and conv_stride need one value per conv layer"),
    (dict(hidden_dropout=1.5), "model.scratch.hidden_dropout: Input should be less than or equal to 1"),
    (dict(feat_extract_norm="batch"), "model.scratch.feat_extract_norm: Input should be 'group' or 'layer'"),
])
def test_a_scratch_architecture_that_cannot_be_built_is_one_line_naming_the_key(fields, says):
    with pytest.raises(UserError) as error:
        params.parse(with_scratch(**fields))
    assert str(error.value).startswith(f"params: {says}") and "\n" not in str(error.value)


def test_a_model_config_override_is_named_where_it_is_set():
    raw = repo_params()
    raw["model"]["config"]["hidden_size"] = 250
    with pytest.raises(UserError, match=r"^params: model\.config\.hidden_size: 250"):
        params.parse(raw)


def test_an_unused_scratch_architecture_is_not_checked_for_fit():
    raw = with_scratch(hidden_size=250)
    raw["model"]["pretrained"] = "facebook/wav2vec2-base"
    assert params.parse(raw).model.scratch["hidden_size"] == 250


def test_unknown_scratch_fields_pass_to_model_py_which_names_them():
    assert params.parse(with_scratch(hiden_size=8)).model.scratch["hiden_size"] == 8


def test_the_architecture_defaults_are_wav2vec2s():
    from transformers import Wav2Vec2Config

    config = Wav2Vec2Config().to_dict()
    assert {name: config[name] for name in params.WAV2VEC2_DEFAULTS} == params.WAV2VEC2_DEFAULTS


@pytest.mark.parametrize("language", ["tr", "zh-CN", "yue", None])
def test_a_language_is_an_iso_639_code_optionally_tagged(language):
    assert params.parse(repo_params(normalize={"language": language})).normalize.language == language


@pytest.mark.parametrize(("key", "value"), [("language", "Turkish"), ("unicode", "NFD"), ("language", "TR")])
def test_a_normalize_setting_outside_its_choices_is_named(key, value):
    with pytest.raises(UserError, match=rf"normalize\.{key}"):
        params.parse(repo_params(normalize={key: value}))


def test_the_headline_rate_is_one_of_wer_cer_auto():
    with pytest.raises(UserError, match=r"evaluate\.headline"):
        params.parse(repo_params(evaluate={"headline": "per"}))
