import numpy as np
import pytest
import soundfile as sf

from ctc_asr import audio
from ctc_asr.errors import UserError


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
