import numpy as np
import pytest
import soundfile as sf

from ctc_asr.core.errors import UserError
from ctc_asr.data import audio


def sine(freq: float, rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)]


def test_resampled_int16_wav_has_right_length_and_frequency(tmp_path):
    path = tmp_path / "tone.wav"
    source = sine(440, 22050, 1.5)
    sf.write(path, source, 22050, subtype="PCM_16")
    samples = audio.load(path, 16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - len(source) * 16000 / 22050) <= 2
    assert dominant_frequency(samples, 16000) == pytest.approx(440, abs=5)
    assert np.abs(samples).max() == pytest.approx(0.5, abs=0.02)


def test_same_rate_is_not_resampled(tmp_path):
    path = tmp_path / "same.wav"
    source = sine(300, 16000, 0.25)
    sf.write(path, source, 16000, subtype="FLOAT")
    np.testing.assert_array_equal(audio.load(path, 16000), source)


def test_stereo_is_mixed_to_the_mean_of_its_channels(tmp_path):
    path = tmp_path / "stereo.wav"
    left, right = sine(200, 16000, 0.2, 0.6), sine(700, 16000, 0.2, 0.3)
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(audio.load(path, 16000), (left + right) / 2, atol=1e-6)


@pytest.mark.parametrize("subtype, tolerance", [("PCM_24", 1e-6), ("FLOAT", 0), ("PCM_16", 1 / 2**15)])
def test_wav_subtypes_read_as_float(tmp_path, subtype, tolerance):
    path = tmp_path / f"{subtype}.wav"
    source = sine(500, 16000, 0.1, 0.8)
    sf.write(path, source, 16000, subtype=subtype)
    samples = audio.load(path, 16000)
    assert samples.dtype == np.float32
    np.testing.assert_allclose(samples, source, atol=tolerance)


def test_nist_sphere_file_reads(tmp_path):
    path = tmp_path / "utt.sph"
    source = sine(440, 8000, 0.5)
    sf.write(path, source, 8000, format="NIST", subtype="PCM_16")
    samples = audio.load(path, 16000)
    assert abs(len(samples) - 2 * len(source)) <= 2
    assert dominant_frequency(samples, 16000) == pytest.approx(440, abs=5)


def test_flac_reads(tmp_path):
    path = tmp_path / "utt.flac"
    source = sine(440, 16000, 0.3)
    sf.write(path, source, 16000, format="FLAC", subtype="PCM_16")
    np.testing.assert_allclose(audio.load(path, 16000), source, atol=1 / 2**15)


def _missing(path):
    pass


def _zero_bytes(path):
    path.write_bytes(b"")


def _text(path):
    path.write_text("this is not audio\n" * 20)


def _no_frames(path):
    sf.write(path, np.zeros((0, 1), np.float32), 16000, subtype="PCM_16")


@pytest.mark.parametrize("make", [_missing, _zero_bytes, _text, _no_frames])
def test_unreadable_audio_raises_user_error_naming_the_file(tmp_path, make):
    path = tmp_path / f"broken_{make.__name__.strip('_')}.wav"
    make(path)
    with pytest.raises(UserError, match=path.name):
        audio.load(path, 16000)


def forged_flac(path, claimed_frames: int, rate: int = 16000) -> np.ndarray:
    """One real second of FLAC whose STREAMINFO claims `claimed_frames` frames; returns the real samples."""
    source = sine(440, rate, 1.0)
    sf.write(path, source, rate, format="FLAC", subtype="PCM_16")
    data = bytearray(path.read_bytes())
    # "fLaC", a 4-byte block header, then STREAMINFO: the total frame count is the low 36 bits of bytes 18-25
    field = int.from_bytes(data[18:26], "big")
    data[18:26] = ((field >> 36 << 36) | claimed_frames).to_bytes(8, "big")
    path.write_bytes(data)
    assert sf.info(path).frames == claimed_frames
    return source


def test_a_header_claiming_more_than_the_file_can_hold_is_one_line_naming_it(tmp_path):
    path = tmp_path / "forged.flac"
    forged_flac(path, 866 * 3600 * 16000)  # 866 hours in some 30 KB: 256 GiB of samples if believed
    for read in (audio.probe, lambda p: audio.load(p, 16000), lambda p: next(audio.stream(p, 16000))):
        with pytest.raises(UserError, match=rf"{path.name}: header claims more audio than the file can hold") as error:
            read(path)
        assert "\n" not in str(error.value)


def test_a_lying_header_within_the_bound_is_read_in_blocks_not_allocated(tmp_path, monkeypatch):
    import tracemalloc

    path = tmp_path / "forged.flac"
    forged_flac(path, 500_000_000)  # 2 GB of float32 samples if believed
    monkeypatch.setattr(audio, "MAX_SAMPLES_PER_BYTE", 10**9)
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=rf"{path.name}: not readable audio"):  # the data ends early, as in a cut file
            audio.load(path, 16000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_streamed_blocks_are_the_whole_files_samples_exactly(tmp_path, monkeypatch):
    """Read and resampled a block at a time, as one piece before: the encoded store must not change."""
    import soxr

    path = tmp_path / "stereo.flac"
    stereo = np.stack([sine(200, 22050, 3.3, 0.6), sine(900, 22050, 3.3, 0.3)], axis=1)
    sf.write(path, stereo, 22050, format="FLAC", subtype="PCM_16")
    monkeypatch.setattr(audio, "BLOCK_FRAMES", 1000)
    blocks = list(audio.stream(path, 16000))
    assert len(blocks) > 50
    whole = soxr.resample(sf.read(path, dtype="float32")[0].mean(axis=1), 22050, 16000, quality="HQ")
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    np.testing.assert_array_equal(audio.load(path, 16000), whole)
