"""The manifest source: your own recordings listed in a CSV, TSV or JSONL file, good and bad."""

import csv
import errno
import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ctc_asr.core import params
from ctc_asr.core.errors import BadInput, UserError
from ctc_asr.data import corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import collect, download, manifest

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test
MAX_SECONDS = 2.0


def tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    wave = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * rate)) / rate)
    return np.stack([wave, 0.5 * wave], axis=1) if channels == 2 else wave


# name: (write(path), seconds, sample rate); every file a different format, length and rate.
GOOD = {
    "stereo.wav": (lambda p: sf.write(p, tone(0.5, 44100, 2), 44100, subtype="PCM_16"), 0.5, 44100),
    "deep.wav": (lambda p: sf.write(p, tone(0.6, 16000), 16000, subtype="PCM_24"), 0.6, 16000),
    "float.wav": (lambda p: sf.write(p, tone(0.7, 22050), 22050, subtype="FLOAT"), 0.7, 22050),
    "clip.flac": (lambda p: sf.write(p, tone(0.8, 16000), 16000, format="FLAC", subtype="PCM_16"), 0.8, 16000),
    "clip.ogg": (lambda p: sf.write(p, tone(0.9, 22050), 22050, format="OGG", subtype="VORBIS"), 0.9, 22050),
    "clip.sph": (lambda p: sf.write(p, tone(1.1, 8000), 8000, format="NIST", subtype="PCM_16"), 1.1, 8000),
}


def _truncated(path):
    sf.write(path, tone(0.5, 16000), 16000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:30])


# name: (write(path) or None for no file, text, the reason it must be rejected for; None: any reason).
BAD = {
    "missing.wav": (None, "a file nobody recorded", "missing file"),
    "empty.wav": (lambda p: p.write_bytes(b""), "an empty file", "empty file"),
    "truncated.wav": (_truncated, "a cut off file", None),
    "notes.wav": (lambda p: p.write_text("these are my notes, not audio\n" * 10), "a text file", "not readable audio"),
    "noframes.wav": (lambda p: sf.write(p, np.zeros((0, 1)), 16000, subtype="PCM_16"), "no frames", "no samples"),
    "untranscribed.wav": (lambda p: sf.write(p, tone(0.5, 16000), 16000), "", "empty transcript"),
    "long.wav": (lambda p: sf.write(p, tone(3.0, 16000), 16000), "far too long", "longer than data.reject_over_seconds"),
    "zero.wav": (lambda p: p.symlink_to("/dev/zero"), "a link to a device", "not a regular file"),
    "folder.wav": (lambda p: p.mkdir(), "a directory", "is a directory"),
}


def write_manifest(path: Path, rows: list[dict]) -> Path:
    """rows of path/text/speaker/split; None values are left out (blank cell, absent JSON key)."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n" for row in rows))
    else:
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, columns, delimiter="\t" if path.suffix == ".tsv" else ",")
            writer.writeheader()
            writer.writerows([{k: ("" if v is None else v) for k, v in row.items()} for row in rows])
    return path


def good_rows(folder: Path, elsewhere: Path) -> list[dict]:
    """One row per GOOD file; clip.flac is listed by absolute path from another folder."""
    rows = []
    for k, (name, (write, _seconds, _rate)) in enumerate(GOOD.items()):
        target = (elsewhere if name == "clip.flac" else folder / "clips") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write(target)
        listed = str(target) if name == "clip.flac" else f"clips/{name}"
        speaker = None if k == 0 else f"spk{k % 2}"  # the first row has no speaker, ...
        split = None if k == 1 else ("test" if k % 2 else "train")  # ... the second no split
        rows.append(dict(path=listed, text=f"Good clip {name}, number {k}.", speaker=speaker, split=split))
    return rows


def bad_row(folder: Path, name: str) -> dict:
    write, text, _ = BAD[name]
    if write is not None:
        (folder / "clips").mkdir(parents=True, exist_ok=True)
        write(folder / "clips" / name)
    return dict(path=f"clips/{name}", text=text, speaker="spk9", split="train")


def run(manifest_path: Path, out_dir: Path, rejects: Rejects, copy: bool = True, workers: int = 1):
    """The source's rows as collected (the dev hold-out of `download` is tested on its own below)."""
    listed = manifest.candidates(DATA.manifest.replace(path=str(manifest_path)))
    return collect(listed, out_dir, rejects, MAX_SECONDS, copy, workers)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "recordings"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_skip_keeps_exactly_the_good_rows(tmp_path, folder, suffix):
    rows = good_rows(folder, tmp_path / "elsewhere")
    rows[3:3] = [bad_row(folder, name) for name in BAD]
    listed = write_manifest(folder / f"list{suffix}", rows)
    out, rejects = tmp_path / "out", Rejects("skip")
    frame = run(listed, out, rejects).set_index("text", drop=False)

    assert sorted(frame.index) == sorted(f"Good clip {name}, number {k}." for k, name in enumerate(GOOD))
    assert frame["id"].is_unique
    for k, (name, (_write, seconds, rate)) in enumerate(GOOD.items()):
        row = frame.loc[f"Good clip {name}, number {k}."]
        assert row.speaker == ("unknown" if k == 0 else f"spk{k % 2}")
        assert row.split == ("train" if k == 1 else ("test" if k % 2 else "train"))
        assert row.seconds == pytest.approx(seconds, abs=1e-3)
        assert row.sample_rate == rate
        copy = out / row.path
        assert copy.suffix == Path(name).suffix and copy.is_relative_to(out / "audio")
        assert sf.info(copy).duration == pytest.approx(seconds, abs=1e-3)


def test_skip_records_every_bad_row_with_its_reason(tmp_path, folder):
    rows = good_rows(folder, tmp_path / "elsewhere") + [bad_row(folder, name) for name in BAD]
    rejects = Rejects("skip")
    run(write_manifest(folder / "list.csv", rows), tmp_path / "out", rejects)
    table = rejects.table()
    assert sorted(Path(item).name for item in table["item"]) == sorted(BAD)
    reasons = dict(zip((Path(item).name for item in table["item"]), table["reason"]))
    for name, (_, _, reason) in BAD.items():
        if reason is not None:
            assert reasons[name] == reason, name
    assert reasons["truncated.wav"]  # rejected for some reason, not kept
    expected = Counter(reason for _, _, reason in BAD.values() if reason is not None)
    expected[reasons["truncated.wav"]] += 1
    assert rejects.counts() == dict(expected)


def test_no_audio_of_a_rejected_item_is_left_behind(tmp_path, folder):
    rows = good_rows(folder, tmp_path / "elsewhere") + [bad_row(folder, name) for name in BAD]
    out = tmp_path / "out"
    frame = run(write_manifest(folder / "list.csv", rows), out, Rejects("skip"))
    written = {p for p in (out / "audio").rglob("*") if p.is_file()}
    assert written == {out / p for p in frame["path"]}
    assert len(written) == len(GOOD)


@pytest.mark.parametrize("name", list(BAD))
def test_fail_stops_at_a_bad_row_naming_file_and_reason(tmp_path, folder, name):
    rows = [*good_rows(folder, tmp_path / "elsewhere")[:1], bad_row(folder, name)]
    with pytest.raises(BadInput) as error:
        run(write_manifest(folder / "list.csv", rows), tmp_path / "out", Rejects("fail"))
    assert name in str(error.value)
    reason = BAD[name][2]
    if reason is not None:
        assert error.value.reason == reason and reason in str(error.value)


def _with_duplicate(tmp_path, folder):
    rows = good_rows(folder, tmp_path / "elsewhere")
    return write_manifest(folder / "list.csv", [*rows, dict(rows[2])])


def test_skip_rejects_a_duplicate_row(tmp_path, folder):
    rejects = Rejects("skip")
    frame = run(_with_duplicate(tmp_path, folder), tmp_path / "out", rejects)
    assert len(frame) == len(GOOD)
    assert rejects.counts() == {"duplicate id": 1}


def test_fail_stops_at_a_duplicate_row(tmp_path, folder):
    with pytest.raises(BadInput, match="duplicate id"):
        run(_with_duplicate(tmp_path, folder), tmp_path / "out", Rejects("fail"))


def test_path_and_text_columns_alone_default_speaker_and_split(tmp_path, folder):
    folder.mkdir()
    sf.write(folder / "a.wav", tone(0.5, 16000), 16000)
    listed = write_manifest(folder / "list.tsv", [dict(path="a.wav", text="Just a clip.")])
    frame = run(listed, tmp_path / "out", Rejects("fail"))
    assert frame[["speaker", "split", "text"]].values.tolist() == [["unknown", "train", "Just a clip."]]


def test_unknown_manifest_extension_is_rejected(tmp_path, folder):
    folder.mkdir()
    listed = folder / "list.xlsx"
    listed.write_text("path,text\na.wav,hello\n")
    with pytest.raises(UserError, match=r"list\.xlsx"):
        run(listed, tmp_path / "out", Rejects("skip"))


def test_manifest_without_text_column_is_rejected(tmp_path, folder):
    folder.mkdir()
    listed = write_manifest(folder / "list.csv", [dict(path="a.wav", transcript="hello")])
    with pytest.raises(UserError, match="text") as error:
        run(listed, tmp_path / "out", Rejects("skip"))
    assert "list.csv" in str(error.value)


def test_split_other_than_train_dev_or_test_is_rejected(tmp_path, folder):
    folder.mkdir()
    sf.write(folder / "a.wav", tone(0.5, 16000), 16000)
    listed = write_manifest(folder / "list.jsonl", [dict(path="a.wav", text="hello", split="valid")])
    with pytest.raises(UserError, match="split") as error:
        run(listed, tmp_path / "out", Rejects("skip"))
    assert "list.jsonl" in str(error.value) and "valid" in str(error.value)


def speakers_rows(folder: Path, splits: list[str | None], speakers: list[str | None]) -> list[dict]:
    folder.mkdir(exist_ok=True)
    rows = []
    for k, (split, speaker) in enumerate(zip(splits, speakers)):
        sf.write(folder / f"{k}.wav", tone(0.5, 16000), 16000)
        rows.append(dict(path=f"{k}.wav", text=f"clip {k}", speaker=speaker, split=split))
    return rows


def download_manifest(listed: Path, out: Path, dev_speakers: int = 1):
    cfg = DATA.replace(source="manifest", manifest=DATA.manifest.replace(path=str(listed)), dev_speakers=dev_speakers)
    return download(cfg, out, Rejects("fail"))


def test_dev_rows_are_the_dev_split(tmp_path, folder):
    rows = speakers_rows(folder, ["train", "dev", None, "test"], ["a", "b", None, "c"])
    frame = download_manifest(write_manifest(folder / "list.csv", rows), tmp_path / "out")
    assert frame["split"].tolist() == ["train", "dev", "train", "test"]  # nothing held out: dev rows exist
    assert corpus.read(tmp_path / "out" / "manifest.tsv")["split"].tolist() == frame["split"].tolist()


def test_without_dev_rows_dev_speakers_are_held_out_of_train(tmp_path, folder):
    rows = speakers_rows(folder, ["train"] * 6 + ["test"], ["a", "a", "b", "b", "c", "c", "t"])
    frame = download_manifest(write_manifest(folder / "list.csv", rows), tmp_path / "out", dev_speakers=2)
    dev, train = (set(frame.loc[frame["split"] == s, "speaker"]) for s in ("dev", "train"))
    assert len(dev) == 2 and dev | train == {"a", "b", "c"} and not dev & train
    assert frame.loc[frame["speaker"] == "t", "split"].tolist() == ["test"]
    again = download_manifest(write_manifest(folder / "again.csv", rows[::-1]), tmp_path / "again", dev_speakers=2)
    assert set(again.loc[again["split"] == "dev", "speaker"]) == dev  # chosen by name, not by order


@pytest.mark.parametrize("speakers, match", [(["a", None, "b"], "without a speaker"), (["a", "a", "a"], "data.dev_speakers")])
def test_without_dev_rows_a_hold_out_that_cannot_work_is_named(tmp_path, folder, speakers, match):
    rows = speakers_rows(folder, ["train"] * 3 + ["test"], [*speakers, "t"])  # a test row: no split may be missing
    with pytest.raises(UserError, match=match):
        download_manifest(write_manifest(folder / "list.csv", rows), tmp_path / "out")


def test_missing_manifest_file_is_rejected(tmp_path):
    with pytest.raises(UserError, match=r"data\.manifest\.path"):
        run(tmp_path / "nope.csv", tmp_path / "out", Rejects("skip"))


def test_numeric_jsonl_speaker_is_kept_as_written(tmp_path, folder):
    folder.mkdir()
    for name in ("a.wav", "b.wav"):
        sf.write(folder / name, tone(0.5, 16000), 16000)
    listed = write_manifest(folder / "list.jsonl", [dict(path="a.wav", text="one", speaker=7),
                                                     dict(path="b.wav", text="two")])
    frame = run(listed, tmp_path / "out", Rejects("fail"))
    assert frame["speaker"].tolist() == ["7", "unknown"]


def test_a_path_reaching_outside_the_manifest_folder_is_copied_inside_the_output(tmp_path, folder):
    (tmp_path / "elsewhere").mkdir()
    sf.write(tmp_path / "elsewhere" / "b.wav", tone(0.5, 16000), 16000)
    folder.mkdir()
    listed = write_manifest(folder / "list.csv", [dict(path="../elsewhere/b.wav", text="Out of the way.")])
    out = tmp_path / "out"
    frame = run(listed, out, Rejects("fail"))
    copied = (out / frame["path"].iloc[0]).resolve()
    assert copied.is_file() and (out / "audio").resolve() in copied.parents


def test_without_copy_the_manifest_points_at_the_files_with_size_and_hash(tmp_path, folder):
    rows = good_rows(folder, tmp_path / "elsewhere")
    listed = write_manifest(folder / "list.csv", rows)
    out = tmp_path / "out"
    frame = run(listed, out, Rejects("fail"), copy=False)
    assert not (out / "audio").exists()  # nothing copied
    for row, listed_row in zip(frame.itertuples(), rows):
        original = (folder / listed_row["path"]).resolve()
        assert Path(row.path).is_absolute() and Path(row.path).resolve() == original
        assert row.size == original.stat().st_size
        assert row.md5 == hashlib.md5(original.read_bytes()).hexdigest()
    changed = folder / rows[0]["path"]
    sf.write(changed, tone(0.5, 16000) * 0.5, 16000)  # same length, other samples
    again = run(listed, tmp_path / "again", Rejects("fail"), copy=False)
    assert again["md5"].iloc[0] != frame["md5"].iloc[0] and again["md5"].iloc[1:].tolist() == frame["md5"].iloc[1:].tolist()


@pytest.mark.parametrize("copy", [True, False])
def test_two_workers_give_the_rows_and_rejects_of_one(tmp_path, folder, copy):
    rows = good_rows(folder, tmp_path / "elsewhere")
    for k, name in enumerate(BAD):  # bad rows spread between good ones, and a duplicate
        rows.insert(2 * k, bad_row(folder, name))
    rows.append(dict(rows[1]))
    listed = write_manifest(folder / "list.csv", rows)
    results = []
    for workers in (1, 2):
        rejects = Rejects("skip")
        frame = run(listed, tmp_path / f"out{workers}", rejects, copy=copy, workers=workers)
        results.append((frame, rejects.table()))
    (one, one_rejects), (two, two_rejects) = results
    assert one.equals(two) and one_rejects.equals(two_rejects)
    assert len(one) == len(GOOD) and len(one_rejects) == len(BAD) + 1
    with pytest.raises(BadInput) as first:  # fail: the same first bad row
        run(listed, tmp_path / "f1", Rejects("fail"), copy=copy, workers=1)
    with pytest.raises(BadInput) as second:
        run(listed, tmp_path / "f2", Rejects("fail"), copy=copy, workers=2)
    assert str(first.value) == str(second.value)


def test_a_phones_column_named_in_params_is_carried_and_a_missing_one_is_named(tmp_path, folder):
    rows = speakers_rows(folder, ["train", "dev", "test"], ["a", "b", "c"])
    for k, row in enumerate(rows):
        row["ipa"] = f"sil p{k} sil"
    listed = write_manifest(folder / "list.csv", rows)
    cfg = DATA.replace(source="manifest", manifest=DATA.manifest.replace(path=str(listed), phones_column="ipa"))
    frame = download(cfg, tmp_path / "out", Rejects("fail"))
    assert frame["phones"].tolist() == ["sil p0 sil", "sil p1 sil", "sil p2 sil"]
    with pytest.raises(UserError, match=r"missing column.*phonemes"):
        download(cfg.replace(manifest=cfg.manifest.replace(phones_column="phonemes")), tmp_path / "x", Rejects("fail"))


@pytest.mark.parametrize("name, content", [("list.csv", ""), ("list.csv", "path,text\n"), ("list.tsv", "path\ttext\n"),
                                           ("list.jsonl", "\n\n")])
def test_an_empty_manifest_is_named_as_empty(tmp_path, folder, name, content):
    folder.mkdir()
    (folder / name).write_text(content)
    with pytest.raises(UserError) as error:
        download_manifest(folder / name, tmp_path / "out")
    assert str(error.value) == f"data.manifest.path: {folder / name} is empty (no rows: the manifest lists no clips)"


def test_a_manifest_whose_every_clip_is_rejected_says_so(tmp_path, folder):
    rows = [bad_row(folder, "missing.wav"), bad_row(folder, "zero.wav"), bad_row(folder, "empty.wav")]
    listed = write_manifest(folder / "list.csv", rows)
    cfg = DATA.replace(source="manifest", manifest=DATA.manifest.replace(path=str(listed)), on_error="skip")
    with pytest.raises(UserError) as error:
        download(cfg, tmp_path / "out", Rejects("skip"))
    assert str(error.value) == ("data.source manifest: no usable clips "
                                "(all rejected: 1 empty file, 1 missing file, 1 not a regular file)")


def test_a_copy_onto_a_full_disk_names_the_copy(tmp_path, folder, monkeypatch):
    def full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device", str(source), None, str(target))

    monkeypatch.setattr(shutil, "copyfile", full)
    rows = speakers_rows(folder, ["train"], ["a"])
    with pytest.raises(UserError) as error:
        run(write_manifest(folder / "list.csv", rows), tmp_path / "out", Rejects("skip"))
    assert re.fullmatch(rf"{re.escape(str(tmp_path / 'out/audio/train/0.wav'))}: no space left on device \(\d+ bytes free\)",
                        str(error.value))


def test_audio_bytes_written_onto_a_full_disk_name_the_file(tmp_path, monkeypatch):
    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")  # as file.write raises it: no file named

    monkeypatch.setattr(Path, "write_bytes", full)
    listed = [dict(id="x", split="train", speaker="a", text="hello", dest="train/x.flac", data=b"fLaC")]
    with pytest.raises(UserError, match=rf"^{re.escape(str(tmp_path / 'audio/train/x.flac'))}: no space left on device"):
        collect(listed, tmp_path, Rejects("skip"), MAX_SECONDS, copy=True)


@pytest.mark.parametrize("splits, missing", [(["train", "dev", None], "test"), (["test", "dev", "test"], "train")])
def test_a_manifest_without_a_split_says_which(tmp_path, folder, splits, missing):
    rows = speakers_rows(folder, splits, ["a", "b", "c"])
    with pytest.raises(UserError, match=rf"data.source manifest: no {missing} clips \(the source lists none\)"):
        download_manifest(write_manifest(folder / "list.csv", rows), tmp_path / "out")


def test_a_nemo_manifest_is_read_as_it_is_with_segments_of_long_files(tmp_path, folder):
    folder.mkdir()
    sf.write(folder / "long.flac", tone(6.0, 16000), 16000, format="FLAC", subtype="PCM_16")
    sf.write(folder / "short.wav", tone(0.5, 16000), 16000)
    rows = [dict(audio_filepath="long.flac", offset=0.5, duration=1.25, text="first part"),
            dict(audio_filepath="long.flac", offset=3.0, duration=2.0, text="second part"),
            dict(audio_filepath="short.wav", duration=0.5, text="a whole file")]  # no offset: the file, read whole
    listed = folder / "train_manifest.json"  # NeMo's name, JSON lines
    listed.write_text("".join(json.dumps(row) + "\n" for row in rows))
    frame = run(listed, tmp_path / "out", Rejects("fail"), copy=False).set_index("text")
    assert frame["id"].tolist() == ["long.flac@0.5+1.25", "long.flac@3.0+2.0", "short.wav"]
    assert frame.loc["second part", ["offset", "duration", "seconds"]].tolist() == [3.0, 2.0, 2.0]
    assert frame.loc["first part", "path"] == frame.loc["second part", "path"] == str(folder / "long.flac")
    assert pd.isna(frame.loc["a whole file", "offset"]) and frame.loc["a whole file", "seconds"] == 0.5


def test_columns_named_otherwise_are_mapped_in_params(tmp_path, folder):
    rows = speakers_rows(folder, ["train", "test"], ["a", "b"])
    renamed = [dict(file=row["path"], sentence=row["text"], client_id=row["speaker"], subset=row["split"], speaker="x")
               for row in rows]
    listed = write_manifest(folder / "list.tsv", renamed)
    columns = {"path": "file", "text": "sentence", "speaker": "client_id", "split": "subset"}
    cfg = DATA.manifest.replace(path=str(listed), columns=columns)
    frame = collect(manifest.candidates(cfg), tmp_path / "out", Rejects("fail"), MAX_SECONDS, copy=False)
    assert frame[["id", "speaker", "split", "text"]].values.tolist() == [["0.wav", "a", "train", "clip 0"],
                                                                         ["1.wav", "b", "test", "clip 1"]]
    with pytest.raises(UserError, match=r"data\.manifest\.columns: .*list\.tsv has no column\(s\) text: transcript"):
        list(manifest.candidates(cfg.replace(columns={**columns, "text": "transcript"})))


def test_an_offset_that_is_not_seconds_is_named_with_its_row(tmp_path, folder):
    rows = speakers_rows(folder, ["train", "test"], ["a", "b"])
    rows[1]["offset"] = "1:30"
    with pytest.raises(UserError, match=r"list\.csv: row 2: offset must be seconds, got '1:30'"):
        list(manifest.candidates(DATA.manifest.replace(path=str(write_manifest(folder / "list.csv", rows)))))
