"""The TIMIT presets are complete, valid params files once the corpus root is set."""

from pathlib import Path

import pytest
import yaml

from ctc_asr import params
from ctc_asr.errors import UserError

PRESETS = sorted((Path(__file__).resolve().parents[1] / "presets").glob("*.yaml"))
DEFAULT = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_is_valid_with_a_root(preset):
    raw = yaml.safe_load(preset.read_text())
    raw["data"]["timit"]["root"] = "/corpora/TIMIT"
    assert params.parse(raw, preset.name).data.source == "timit"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_without_a_root_names_the_key(preset):
    with pytest.raises(UserError, match=r"timit\.root"):
        params.parse(yaml.safe_load(preset.read_text()), preset.name)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_has_every_section_dvc_yaml_reads(preset):
    # dvc refuses to run a stage whose declared params section is missing from params.yaml
    assert set(yaml.safe_load(preset.read_text())) == set(DEFAULT)


def test_there_are_two_presets():
    assert [p.name for p in PRESETS] == ["timit-seed.yaml", "timit-tuned.yaml"]
