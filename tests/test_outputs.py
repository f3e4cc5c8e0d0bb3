"""Outputs are written beside their place and renamed in: a hard link to the old output (DVC's
cache) never changes, and an error leaves neither an output nor a temporary behind."""

import os
import subprocess
import sys

import numpy as np
import pytest

from ctc_asr.core import outputs
from ctc_asr.data import store


def test_a_file_is_replaced_without_writing_into_its_other_links(tmp_path):
    output, cached = tmp_path / "out.json", tmp_path / "cache-object"
    cached.write_text("cached\n")
    output.hardlink_to(cached)
    outputs.write_json(output, {"new": 1})
    assert cached.read_text() == "cached\n" and output.read_text() == '{\n  "new": 1\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache-object", "out.json"]


def test_a_folder_replaces_the_old_one_as_a_whole(tmp_path):
    output, cached = tmp_path / "encoded", tmp_path / "cache-object"
    output.mkdir()
    (output / "old").write_text("old")
    cached.write_text("cached")
    (output / "index.tsv").hardlink_to(cached)
    with outputs.replacing(output) as folder:
        folder.mkdir()
        (folder / "index.tsv").write_text("new")
        assert (output / "index.tsv").read_text() != "new"  # not in place before it is complete
    assert sorted(p.name for p in output.iterdir()) == ["index.tsv"] and (output / "index.tsv").read_text() == "new"
    assert cached.read_text() == "cached" and sorted(p.name for p in tmp_path.iterdir()) == ["cache-object", "encoded"]


def test_an_error_leaves_no_output_and_no_temporary(tmp_path):
    with pytest.raises(RuntimeError), outputs.replacing(tmp_path / "encoded") as folder:
        folder.mkdir()
        (folder / "audio.i16").write_bytes(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_fails_part_way_never_looks_complete(tmp_path):
    with pytest.raises(ValueError), outputs.replacing(tmp_path / "encoded") as folder, \
            store.Writer(folder, 16000) as writer:
        writer.add({"id": "a", "split": "train", "text": "a"}, np.zeros(160, np.float32), [1])
        assert not (folder / store.INDEX).exists()
        raise ValueError("a clip that does not decode")
    assert list(tmp_path.iterdir()) == []
    with store.Writer(tmp_path / "direct", 16000) as writer:  # without `replacing` too: no index, no store.json
        pass
    with pytest.raises(ValueError), store.Writer(tmp_path / "failed", 16000):
        raise ValueError
    assert not (tmp_path / "failed" / store.META).exists() and (tmp_path / "direct" / store.META).exists()


def test_clear_removes_what_dead_writers_left_and_keeps_a_live_ones(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    output = tmp_path / "encoded"
    output.mkdir()
    for pid in (dead, os.getpid()):
        (tmp_path / f".encoded.{pid}-ab12.partial").mkdir()
    (tmp_path / ".other.1-ab12.partial").write_text("")  # another output's: not this one's to clear
    outputs.clear(output)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".encoded.{os.getpid()}-ab12.partial", ".other.1-ab12.partial"]
