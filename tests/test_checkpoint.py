"""Checkpoints: loaded without running code, the key checked before anything is read, random states restored."""

import json

import numpy as np
import pytest
import torch

from ctc_asr.training.checkpoint import Checkpoints, random_state, restore_random_state


class RunsCode:
    """What a crafted checkpoint holds: unpickling it calls `Path.touch(marker)`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (type(self.marker).touch, (self.marker,))


@pytest.fixture
def crafted(tmp_path):
    folder, marker = tmp_path / "checkpoint", tmp_path / "ran"
    folder.mkdir()
    torch.save({"key": "k", "payload": RunsCode(marker)}, folder / "last.pt")
    (folder / "last.json").write_text(json.dumps({"key": "k"}))
    return folder, marker


def test_a_crafted_checkpoint_with_the_right_key_does_not_run_code(crafted, capsys):
    folder, marker = crafted
    assert Checkpoints(folder, "k").load() is None
    assert not marker.exists()
    assert "not a checkpoint of tensors and plain values" in capsys.readouterr().out


def test_the_key_beside_the_checkpoint_is_checked_before_the_checkpoint_is_read(crafted, monkeypatch):
    folder, marker = crafted
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("read a checkpoint of another run"))
    assert Checkpoints(folder, "another run").load() is None
    (folder / "last.json").unlink()  # no key: not resumed either
    assert Checkpoints(folder, "k").load() is None
    assert not marker.exists()


def test_a_saved_state_loads_back_with_its_random_generators(tmp_path):
    checkpoints = Checkpoints(tmp_path / "checkpoint", "k")
    torch.manual_seed(1), np.random.seed(2), np.random.standard_normal()  # a cached gaussian too
    progress = {"step": 7, "window": (1.0, 2.0, 3), "audio_seconds": np.float64(2.5)}  # numpy's too
    checkpoints.save({"weights": torch.arange(3.0), "random": [random_state()], "progress": progress})
    expected = torch.rand(2), np.random.standard_normal(3)
    state = Checkpoints(tmp_path / "checkpoint", "k").load()
    restore_random_state(state["random"][0])
    assert torch.equal(torch.rand(2), expected[0]) and np.array_equal(np.random.standard_normal(3), expected[1])
    assert state["progress"] == {**progress, "audio_seconds": 2.5} and torch.equal(state["weights"], torch.arange(3.0))
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == ["last.json", "last.pt"]  # nothing partial
