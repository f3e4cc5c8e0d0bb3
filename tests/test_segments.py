"""Utterances cut out of long recordings: read alone (sought to, not decoded from the start), checked on the way in."""

import importlib
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ctc_asr.data import audio, corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import collect

COLLECT = importlib.import_module("ctc_asr.data.sources.collect")  # the module, which the package's `collect` hides

RATE = 22050  # not the model's 16 kHz: segments are resampled too
MINUTES = 10
# (offset, duration) in seconds: the very start, the middle, one across a FLAC block boundary, the very end.
SEGMENTS = [(0.0, 1.5), (61.25, 2.0), (299.99, 3.3), (MINUTES * 60 - 2.5, 2.5)]


def recording_samples(seconds: float, rate: int) -> np.ndarray:
    """A sine in noise, on the 16-bit grid: what a FLAC file of it decodes to exactly."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    noise = np.random.default_rng(0).standard_normal(t.size, dtype=np.float32)
    return np.round((0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * noise) * 32768) / 32768


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("long") / "meeting.flac"
    sf.write(path, recording_samples(MINUTES * 60, RATE), RATE, format="FLAC", subtype="PCM_16")
    return path


def frames(offset: float, duration: float) -> slice:
    return slice(round(offset * RATE), round((offset + duration) * RATE))


def test_a_segment_is_the_cut_of_the_decoded_file(recording):
    decoded, _ = sf.read(recording, dtype="float32")
    for segment in SEGMENTS:
        np.testing.assert_array_equal(audio.load(recording, RATE, segment=segment), decoded[frames(*segment)])


def test_a_resampled_segment_is_the_segment_as_a_file_of_its_own(recording, tmp_path):
    decoded, _ = sf.read(recording, dtype="float32")
    for number, segment in enumerate(SEGMENTS):
        alone = tmp_path / f"{number}.flac"
        sf.write(alone, decoded[frames(*segment)], RATE, format="FLAC", subtype="PCM_16")  # lossless: 16-bit values
        np.testing.assert_array_equal(audio.load(recording, 16000, "int16", segment), audio.load(alone, 16000, "int16"))


def test_a_segment_is_read_in_memory_near_its_own_size(recording):
    offset, duration = 300.0, 2.0
    whole = sf.info(recording).frames * 4  # bytes of the recording decoded as float32
    tracemalloc.start()
    try:
        samples = audio.load(recording, 16000, segment=(offset, duration))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(samples) == 2 * 16000
    segment = duration * RATE * 4
    assert peak < 4 * segment and peak < whole / 50, (peak, segment, whole)  # measured: 2.8 segments


def test_rows_without_offset_are_whole_files():
    frame = pd.DataFrame({"offset": [1.5, "", np.nan], "duration": [2.0, "", np.nan]})
    assert corpus.segments(frame) == [(1.5, 2.0), None, None]
    assert corpus.segments(pd.DataFrame({"path": ["a.wav", "b.wav"]})) == [None, None]


@pytest.fixture
def short_recording(tmp_path) -> Path:
    path = tmp_path / "talk.flac"
    sf.write(path, recording_samples(10.0, 16000), 16000, format="FLAC", subtype="PCM_16")
    return path


def cut(path: Path, number: int, offset: float, duration: float | None, text: str = "some words") -> dict:
    return dict(id=f"talk-{number}", split="train", speaker="a", text=text, source=path, dest="train/talk.flac",
                offset=offset, duration=duration)


def test_segments_are_checked_against_their_recording(short_recording, tmp_path):
    listed = [cut(short_recording, 0, 0.0, 2.0), cut(short_recording, 1, 8.0, None),  # None: to the end
              cut(short_recording, 2, 9.0, 1.3),  # 0.3 s past the end: cut there, as Kaldi does
              cut(short_recording, 3, 9.0, 2.0), cut(short_recording, 4, 10.5, 1.0),  # past the end
              cut(short_recording, 5, 3.0, -1.0), cut(short_recording, 6, 1.0, 5.5)]  # negative; over reject_over
    rejects = Rejects("skip")
    frame = collect(listed, tmp_path / "out", rejects, reject_over=5.0, copy=False).set_index("id")
    assert frame[["offset", "duration", "seconds"]].values.tolist() == [[0.0, 2.0, 2.0], [8.0, 2.0, 2.0], [9.0, 1.0, 1.0]]
    assert set(frame["path"]) == {str(short_recording)} and set(frame["size"]) == {short_recording.stat().st_size}
    assert dict(zip(rejects.table()["id"], rejects.table()["reason"])) == {
        "talk-3": "segment past the end of the recording", "talk-4": "segment past the end of the recording",
        "talk-5": "empty or negative segment", "talk-6": "longer than data.reject_over_seconds"}


def test_a_recording_is_hashed_once_and_copied_once_for_all_its_segments(short_recording, tmp_path):
    listed = [cut(short_recording, number, number * 2.0, 2.0) for number in range(5)]
    out = tmp_path / "out"
    frame = collect(listed, out, Rejects("fail"), reject_over=60, copy=True)
    assert COLLECT._md5.cache_info().misses == 2  # the recording, and its copy once made
    assert set(frame["path"]) == {"audio/train/talk.flac"} and frame["offset"].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert [p.name for p in (out / "audio").rglob("*") if p.is_file()] == ["talk.flac"]
    assert (out / "audio/train/talk.flac").read_bytes() == short_recording.read_bytes()
