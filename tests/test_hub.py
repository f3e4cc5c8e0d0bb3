"""The hub source on a local parquet dataset with embedded audio bytes (no network)."""

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ctc_asr.core import params
from ctc_asr.core.errors import BadInput, UserError
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import download

datasets = pytest.importorskip("datasets")

# split: [(file name, format, seconds, sample rate, text, speaker)]
DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test

ITEMS = {
    "train": [("a.flac", "FLAC", 0.5, 16000, "The first train clip.", "alice"),
              ("b.wav", "WAV", 0.7, 22050, "A second one, in WAV.", "bob"),
              ("c.flac", "FLAC", 0.3, 8000, "Third!", "alice")],
    "validation": [("f.wav", "WAV", 0.5, 16000, "A dev clip.", "frank")],
    "test": [("d.wav", "WAV", 0.6, 16000, "Only tests here.", "carol"),
             ("e.flac", "FLAC", 0.4, 16000, "And here.", "dave")],
}
OURS = {"train": "train", "validation": "dev", "test": "test"}  # hub split -> pipeline split (data.hub.*_split)


def encoded(fmt: str, seconds: float, rate: int) -> bytes:
    buffer = io.BytesIO()
    wave = 0.3 * np.sin(2 * np.pi * 330 * np.arange(int(seconds * rate)) / rate)
    sf.write(buffer, wave, rate, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def write_split(folder: Path, split: str, items: list[tuple]) -> None:
    table = datasets.Dataset.from_dict({
        "audio": [{"bytes": data, "path": name} for name, data in items_bytes(items)],
        "sentence": [item[4] for item in items],
        "client": [item[5] for item in items],
    }).cast_column("audio", datasets.Audio())
    (folder / "data").mkdir(parents=True, exist_ok=True)
    table.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))


def items_bytes(items):
    for name, fmt, seconds, rate, *_ in items:
        yield name, (b"not audio" if fmt == "BAD" else encoded(fmt, seconds, rate))


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    cache = tmp_path / "hf_cache"
    for name in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(name, "1")
        monkeypatch.setattr(datasets.config, name, True)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)


@pytest.fixture
def dataset(tmp_path):
    folder = tmp_path / "ds"
    for split, items in ITEMS.items():
        write_split(folder, split, items)
    return folder


def hub(folder: Path, out_dir: Path, rejects: Rejects | None = None, **changes):
    fields = dict(name=str(folder), text_column="sentence", audio_column="audio", speaker_column="client")
    cfg = DATA.hub.replace(**{**fields, **changes})
    return download(DATA.replace(source="hub", hub=cfg), out_dir, rejects or Rejects("fail"))


def test_rows_per_split_with_text_and_speaker(dataset, tmp_path):
    frame = hub(dataset, tmp_path / "out")
    for split, items in ITEMS.items():
        rows = frame[frame["split"] == OURS[split]]
        assert rows["text"].tolist() == [item[4] for item in items]
        assert rows["speaker"].tolist() == [item[5] for item in items]
    assert frame["id"].is_unique


def test_audio_is_written_with_its_suffix_and_duration(dataset, tmp_path):
    out = tmp_path / "out"
    frame = hub(dataset, out).set_index("text")
    for items in ITEMS.values():
        for name, fmt, seconds, rate, text, _speaker in items:
            row = frame.loc[text]
            path = out / row.path
            assert path.suffix == Path(name).suffix and path.is_relative_to(out / "audio")
            info = sf.info(path)
            assert (info.format, info.samplerate) == (fmt, rate)
            assert info.duration == pytest.approx(seconds, abs=1e-3)
            assert (row.seconds, row.sample_rate) == (pytest.approx(seconds, abs=1e-3), rate)


def test_limit_caps_each_split(dataset, tmp_path):
    frame = hub(dataset, tmp_path / "out", limit=2)
    assert frame.groupby("split").size().to_dict() == {"train": 2, "dev": 1, "test": 2}
    assert frame[frame["split"] == "train"]["text"].tolist() == [item[4] for item in ITEMS["train"][:2]]


def test_without_speaker_column_speaker_is_unknown(dataset, tmp_path):
    cfg = DATA.hub.replace(name=str(dataset), text_column="sentence")
    frame = download(DATA.replace(source="hub", hub=cfg), tmp_path / "out", Rejects("fail"))
    assert set(frame["speaker"]) == {"unknown"}


def test_without_dev_split_dev_speakers_are_held_out_of_train(dataset, tmp_path):
    frame = download(DATA.replace(source="hub", dev_speakers=1, hub=DATA.hub.replace(
        name=str(dataset), text_column="sentence", speaker_column="client", dev_split=None)), tmp_path / "out", Rejects("fail"))
    dev, train = (set(frame.loc[frame["split"] == s, "speaker"]) for s in ("dev", "train"))
    assert len(dev) == 1 and dev | train == {"alice", "bob"} and not dev & train
    assert "frank" not in set(frame["speaker"])  # the validation split is not read


def test_without_dev_split_or_speakers_the_error_says_what_to_set(dataset, tmp_path):
    cfg = DATA.hub.replace(name=str(dataset), text_column="sentence", dev_split=None)
    with pytest.raises(UserError, match="dev split"):
        download(DATA.replace(source="hub", hub=cfg), tmp_path / "out", Rejects("fail"))


@pytest.mark.parametrize("column", ["text_column", "audio_column", "speaker_column"])
def test_wrong_column_name_is_rejected_by_name(dataset, tmp_path, column):
    with pytest.raises(UserError, match="no_such_column"):
        hub(dataset, tmp_path / "out", **{column: "no_such_column"})


def test_wrong_split_name_is_rejected_by_name(dataset, tmp_path):
    with pytest.raises(UserError, match="no_such_split") as error:
        hub(dataset, tmp_path / "out", test_split="no_such_split")
    assert "data.hub" in str(error.value)


@pytest.fixture
def corrupt_dataset(tmp_path):
    folder = tmp_path / "bad_ds"
    write_split(folder, "train", [ITEMS["train"][0], ("broken.flac", "BAD", 0, 0, "Corrupt.", "eve")])
    write_split(folder, "validation", ITEMS["validation"])
    write_split(folder, "test", ITEMS["test"])
    return folder


def test_corrupt_embedded_audio_is_skipped(corrupt_dataset, tmp_path):
    out, rejects = tmp_path / "out", Rejects("skip")
    frame = hub(corrupt_dataset, out, rejects)
    assert "Corrupt." not in set(frame["text"]) and len(frame) == 4  # 1 train, 1 dev, 2 test
    assert rejects.counts() == {"not readable audio": 1}
    assert {p for p in (out / "audio").rglob("*") if p.is_file()} == {out / p for p in frame["path"]}


def test_corrupt_embedded_audio_fails(corrupt_dataset, tmp_path):
    with pytest.raises(BadInput, match="not readable audio"):
        hub(corrupt_dataset, tmp_path / "out", Rejects("fail"))


def test_a_hub_id_without_a_revision_is_warned_about(tmp_path, capsys):
    with pytest.raises(UserError):  # offline: the id cannot be loaded, but the warning comes first
        download(DATA.replace(source="hub", hub=DATA.hub.replace(name="someone/some_dataset")), tmp_path / "out", Rejects("fail"))
    assert "data.hub.revision is not set" in capsys.readouterr().err


def test_a_local_folder_needs_no_revision(dataset, tmp_path, capsys):
    hub(dataset, tmp_path / "out")
    assert "revision" not in capsys.readouterr().err


def test_streaming_gives_the_same_manifest_without_converting_the_dataset(dataset, tmp_path):
    cache = Path(datasets.config.HF_DATASETS_CACHE)
    streamed = hub(dataset, tmp_path / "streamed", streaming=True, limit=2)
    assert not list(cache.rglob("*.arrow"))  # nothing materialised: no Arrow copy of any split
    whole = hub(dataset, tmp_path / "whole", limit=2)
    assert list(cache.rglob("*.arrow"))  # (what a download without streaming leaves behind)
    assert len(streamed) == 5 and streamed.equals(whole)


def test_a_test_split_whose_every_clip_is_rejected_is_named(tmp_path):
    folder = tmp_path / "no_test"
    write_split(folder, "train", ITEMS["train"])
    write_split(folder, "validation", ITEMS["validation"])
    write_split(folder, "test", [("broken.flac", "BAD", 0, 0, "Corrupt.", "eve")])
    with pytest.raises(UserError, match=r"data.source hub: no test clips \(all 1 listed were rejected\)"):
        hub(folder, tmp_path / "out", Rejects("skip"))
