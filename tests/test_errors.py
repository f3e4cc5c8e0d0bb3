"""One line where a traceback used to be: a full disk, and paths that are not regular files."""

import errno
import os
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from ctc_asr.core import errors
from ctc_asr.core.errors import BadInput, UserError, exit_on_user_error, require_regular_file, writing
from ctc_asr.data.sources import synthetic

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def disk(monkeypatch):
    """Set the free bytes every file system reports; remembers the paths asked about."""
    asked = []

    def free(amount: int):
        def disk_usage(path):
            asked.append(Path(path))
            return Usage(10**12, 10**12 - amount, amount)

        monkeypatch.setattr(errors.shutil, "disk_usage", disk_usage)
        return asked

    return free


def stops_with(capsys, main) -> str:
    """What `main`, wrapped by exit_on_user_error, printed on stderr; it must exit 2."""
    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(main)()
    assert stop.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("code, says", [(errno.ENOSPC, "no space left on device"),
                                        (errno.EDQUOT, "no space left on device (disk quota exceeded)")])
def test_a_full_disk_is_one_line_naming_the_file(capsys, code, says):
    def main():
        raise OSError(code, os.strerror(code), "models/ctc/model.safetensors")

    assert stops_with(capsys, main) == f"error: models/ctc/model.safetensors: {says}\n"


def test_a_full_disk_during_a_copy_names_the_destination(capsys):
    def main():
        raise OSError(errno.ENOSPC, "No space left on device", "/corpus/a.flac", None, "data/raw/audio/a.flac")

    assert stops_with(capsys, main) == "error: data/raw/audio/a.flac: no space left on device\n"


def test_a_full_disk_the_error_names_no_file_for_is_still_one_line(capsys):
    def main():
        raise OSError(errno.ENOSPC, "No space left on device")

    assert stops_with(capsys, main) == "error: no space left on device\n"


def test_other_os_errors_keep_their_traceback():
    def main():
        raise OSError(errno.EIO, "Input/output error", "data/raw")

    with pytest.raises(OSError, match="Input/output"):
        exit_on_user_error(main)()


# What writers say when the disk is full (each seen on a full file system).
HIDDEN = [RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"),
          RuntimeError("Error : problem with initialization of the flac decoder."),
          OSError(errno.ENOSPC, "No space left on device")]


@pytest.mark.parametrize("error", HIDDEN, ids=["torch.save", "libsndfile", "write"])
def test_writing_to_a_full_disk_names_the_path(tmp_path, disk, error):
    disk(0)
    with pytest.raises(UserError) as raised, writing(tmp_path / "checkpoint.pt"):
        raise error
    assert str(raised.value) == f"{tmp_path / 'checkpoint.pt'}: no space left on device (0 bytes free)"


def test_writing_with_space_left_lets_the_error_through(tmp_path, disk):
    disk(10**9)
    with pytest.raises(RuntimeError, match="enforce fail"), writing(tmp_path / "checkpoint.pt"):
        raise HIDDEN[0]


def test_writing_says_enospc_whatever_the_free_space(tmp_path, disk):
    disk(10**9)  # space given back by the time we look (another process deleted something)
    with pytest.raises(UserError, match="no space left on device"), writing(tmp_path / "a.bin"):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_writing_measures_the_nearest_folder_that_exists(tmp_path, disk):
    asked = disk(0)
    with pytest.raises(UserError), writing(tmp_path / "not" / "yet" / "there.pt"):
        raise RuntimeError("whatever the writer says")
    assert asked == [tmp_path]


def test_writing_leaves_user_errors_alone(tmp_path, disk):
    disk(0)
    with pytest.raises(UserError, match=r"^bad row$"), writing(tmp_path / "a"):
        raise UserError("bad row")


class QuietEngine:
    """eSpeak's stand-in: the real engine must not speak in the test process (see synthetic.download)."""

    sample_rate = 22050

    def set_voice(self, voice):
        pass

    def synthesize(self, text, words_per_minute, pitch):
        return np.zeros(2205, dtype=np.float32)

    def phonemes(self, text):
        return ""


def test_synthetic_corpus_on_a_full_disk_names_the_file(tmp_path, monkeypatch, disk):
    def flac_on_a_full_disk(*args, **kwargs):
        raise RuntimeError("Error : problem with initialization of the flac decoder.")

    disk(0)
    monkeypatch.setattr(synthetic, "Espeak", QuietEngine)
    monkeypatch.setattr(synthetic.sf, "write", flac_on_a_full_disk)
    row = dict(speaker="en+m1", id="en+m1-001", text="A sentence.", words_per_minute=160, pitch=50)
    with pytest.raises(UserError) as raised:
        synthetic._speak(tmp_path, [row])
    assert str(raised.value) == f"{tmp_path / 'audio/en+m1/en+m1-001.flac'}: no space left on device (0 bytes free)"


def test_a_link_to_a_device_is_not_a_regular_file(tmp_path):
    (tmp_path / "zero.wav").symlink_to("/dev/zero")
    with pytest.raises(BadInput) as raised:
        require_regular_file(tmp_path / "zero.wav")
    assert raised.value.reason == "not a regular file"
    assert str(raised.value) == f"{tmp_path / 'zero.wav'}: not a regular file (character device /dev/zero)"


def test_a_directory_is_a_directory(tmp_path):
    with pytest.raises(BadInput, match=r"is a directory$"):
        require_regular_file(tmp_path)


def test_a_named_pipe_is_named_as_one(tmp_path):
    os.mkfifo(tmp_path / "pipe.wav")
    with pytest.raises(BadInput, match=r"not a regular file \(named pipe\)$"):
        require_regular_file(tmp_path / "pipe.wav")


def test_a_broken_link_is_a_missing_file_saying_where_it_points(tmp_path):
    (tmp_path / "gone.wav").symlink_to(tmp_path / "elsewhere.wav")
    with pytest.raises(BadInput) as raised:
        require_regular_file(tmp_path / "gone.wav")
    assert raised.value.reason == "missing file" and "elsewhere.wav" in raised.value.detail


def test_a_regular_file_and_a_link_to_one_pass(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "b.wav").symlink_to(tmp_path / "a.wav")
    for name in ("a.wav", "b.wav"):
        require_regular_file(tmp_path / name)
