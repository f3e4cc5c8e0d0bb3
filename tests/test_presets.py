"""The TIMIT presets: overrides of params.yaml that give valid params, and the seed's schedule."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from ctc_asr.core import presets
from ctc_asr.core.errors import UserError
from ctc_asr.data.sources.timit import modelled_seconds
from ctc_asr.training.loop import plan_epochs

PROJECT = Path(__file__).resolve().parents[1]
PARAMS = PROJECT / "params.yaml"
PRESETS = sorted((PROJECT / "presets").glob("*.yaml"))
ROOT = {"data": {"timit": {"root": "/corpora/TIMIT"}}}
TIMIT_TRAIN, SA_PER_SPEAKER, TRAIN_SPEAKERS = 4620, 2, 462


def test_there_are_three_presets():
    assert [p.name for p in PRESETS] == ["timit-phones.yaml", "timit-seed.yaml", "timit-tuned.yaml"]


def test_the_phones_preset_trains_phones_scored_on_the_core_test_set():
    cfg = presets.load(PROJECT / "presets/timit-phones.yaml", PARAMS, ROOT)
    assert cfg.target == "phones" and cfg.data.timit.test_set == "core" and not cfg.data.timit.keep_sa


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_is_valid_with_a_root(preset):
    cfg = presets.load(preset, PARAMS, ROOT)
    assert cfg.data.source == "timit" and cfg.model.pretrained == "facebook/wav2vec2-base"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_without_a_root_names_the_key(preset):
    with pytest.raises(UserError, match=r"timit\.root"):
        presets.load(preset, PARAMS)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_holds_only_overrides(preset):
    # a value equal to params.yaml's would be a second home for it
    def same(update, base, where=""):
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                yield from same(value, base[key], f"{where}{key}.")
            elif base.get(key, object()) == value:
                yield f"{where}{key}"
    assert list(same(yaml.safe_load(preset.read_text()), yaml.safe_load(PARAMS.read_text()))) == []


def test_a_key_params_yaml_lacks_is_refused(tmp_path):
    preset = tmp_path / "typo.yaml"
    preset.write_text("train:\n  lerning_rate: 0.1\n")
    with pytest.raises(UserError, match=r"train\.lerning_rate: not a key of params\.yaml"):
        presets.load(preset, PARAMS)


def test_apply_writes_values_and_keeps_comments(tmp_path):
    target = tmp_path / "params.yaml"
    shutil.copy(PARAMS, target)
    keys = presets.apply(PROJECT / "presets/timit-seed.yaml", target, ROOT)
    written = yaml.safe_load(target.read_text())
    assert written["train"]["batch_seconds"] == 100 and written["data"]["timit"]["root"] == "/corpora/TIMIT"
    assert written["train"]["epochs"] == 30 and "data.timit.root" in keys and "train.epochs" in keys
    assert "# Every knob of the pipeline" in target.read_text()  # params.yaml's comments survive
    assert written["normalize"] == yaml.safe_load(PARAMS.read_text())["normalize"]  # untouched sections stay


def test_an_invalid_result_is_not_written(tmp_path):
    target = tmp_path / "params.yaml"
    shutil.copy(PARAMS, target)
    with pytest.raises(UserError, match=r"timit\.root"):
        presets.apply(PROJECT / "presets/timit-seed.yaml", target)
    assert target.read_text() == PARAMS.read_text()


def planned_steps(preset: Path, clips: int) -> tuple[int, float, int]:
    """(steps, mean clips a step, warmup steps) of the preset's run on TIMIT-like clip durations."""
    cfg = presets.load(preset, PARAMS, ROOT)
    seconds = modelled_seconds(clips, np.random.default_rng(0))
    kept = seconds[(seconds >= cfg.filter.min_seconds) & (seconds <= cfg.filter.max_seconds)]
    plan = plan_epochs((kept * 16000).astype(np.int64), cfg.train, 16000)
    return len(plan), np.mean([len(rows) for _, rows in plan]), cfg.train.warmup_steps


def test_the_seed_preset_has_the_notebooks_schedule():
    # the notebook's log: 3,750 steps over 30 epochs of 3,978 clips (~32 a step), 1,000 of them warmup
    steps, clips_per_step, warmup = planned_steps(PROJECT / "presets/timit-seed.yaml", TIMIT_TRAIN)
    assert steps == pytest.approx(3750, rel=0.03)
    assert clips_per_step == pytest.approx(3978 / 125, rel=0.03)
    assert warmup / steps == pytest.approx(1000 / 3750, abs=0.01)


def test_the_tuned_preset_warms_up_for_a_tenth_of_its_run():
    steps, clips_per_step, warmup = planned_steps(PROJECT / "presets/timit-tuned.yaml",
                                                  TIMIT_TRAIN - SA_PER_SPEAKER * TRAIN_SPEAKERS)
    assert 3000 < steps < 4500 and 25 < clips_per_step < 35  # about the seed's batch: its learning rate holds
    assert warmup / steps == pytest.approx(0.1, abs=0.02)


def test_apply_changes_only_the_lines_of_the_values_it_sets(tmp_path):
    target = tmp_path / "params.yaml"
    shutil.copy(PARAMS, target)
    keys = presets.apply(PROJECT / "presets/timit-seed.yaml", target, ROOT)  # sets no key params.yaml lacks
    before, after = PARAMS.read_text().splitlines(), target.read_text().splitlines()
    assert len(before) == len(after)
    changed = [new for old, new in zip(before, after) if old != new]
    assert len(changed) == len(keys) and any("batch_seconds: 100 " in line for line in changed)
