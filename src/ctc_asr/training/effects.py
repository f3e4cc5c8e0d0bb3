"""Waveform effects for augmentation: functions of float32 samples and of the values drawn for them.

The signal processing is the libraries': soxr resamples (speed), scipy filters and convolves,
pyroomacoustics simulates rooms, libsndfile (through soundfile) runs the codecs (LAME for MP3,
libopus). None of them reads a global random generator: every random value comes in as an
argument, or from the `numpy.random.Generator` handed in (generated noise). scipy and
pyroomacoustics take a second or two to import, so they are imported where first used: a run
without the effects that need them never pays for them.
"""

import io

import numpy as np
import soundfile as sf
import soxr

from ctc_asr.data import pcm

NOISE_EXPONENTS = {"white": 0, "pink": 1, "brown": 2}  # power falling as 1/f to this power
BAND_ORDER = 6  # Butterworth, run forwards and backwards: no delay; 1 % of white noise's energy above the band is left
CODECS = {"mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS")}
ROOM_HEIGHT = (2.5, 3.5)  # metres
WALL_GAP = 0.5  # metres: source and microphone at least this far from every wall
# Reflections followed per image source at most: a room costs the cube of it (0.07 s at 40, several seconds
# for a long rt60 uncapped). The echo of the longest rooms is cut short, never lengthened.
MAX_ORDER = 40
SOUND_SPEED = 343.0  # m/s, what pyroomacoustics simulates with


def speed(samples: np.ndarray, factor: float, rate: int) -> np.ndarray:
    """Played `factor` times as fast, tempo and pitch together (Kaldi's speed perturbation, sox's `speed`):
    round(n / factor) samples, resampled by soxr."""
    if factor == 1:
        return samples
    return soxr.resample(samples, rate * factor, rate, quality="HQ")


def colored_noise(length: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power falls as 1/f^β (white 0, pink 1, brown 2), shaped in the frequency domain, no DC."""
    white = rng.standard_normal(length)
    exponent = NOISE_EXPONENTS[color]
    if exponent == 0:
        return white.astype(np.float32)
    spectrum = np.fft.rfft(white)
    frequencies = np.arange(len(spectrum), dtype=np.float64)
    spectrum[1:] /= frequencies[1:] ** (exponent / 2)
    spectrum[0] = 0
    return np.fft.irfft(spectrum, length).astype(np.float32)


def power(samples: np.ndarray) -> float:
    return float(np.mean(np.square(samples, dtype=np.float64))) if len(samples) else 0.0


def add_at_snr(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`samples` plus `noise` (as long) scaled so that the clip's power over the noise's is `snr_db`;
    a silent clip, or silent noise, is left as it is."""
    signal, unscaled = power(samples), power(noise)
    if signal == 0 or unscaled == 0:
        return samples
    scale = np.sqrt(signal / (unscaled * 10 ** (snr_db / 10)))
    return (samples + scale * noise).astype(np.float32)


def looped(samples: np.ndarray, length: int, offset: int = 0) -> np.ndarray:
    """`length` samples of `samples` from `offset` on, starting again at the top when they run out."""
    return np.take(samples, np.arange(offset, offset + length), mode="wrap")


def reverberate(samples: np.ndarray, response: np.ndarray) -> np.ndarray:
    """`samples` convolved with a room's impulse `response`, cut to their own length from the direct sound (the
    response's strongest tap) on: the words stay where they were, and their echo trails into what follows."""
    from scipy.signal import fftconvolve

    direct = int(np.argmax(np.abs(response)))
    return fftconvolve(samples, response)[direct:direct + len(samples)].astype(np.float32)


def room_response(rt60: float, sides: tuple[float, float, float], source, microphone, rate: int) -> np.ndarray:
    """The impulse response from `source` to `microphone` (x, y, z in metres) in a shoebox room of `sides`
    whose walls absorb what Sabine's formula asks for an echo of `rt60` seconds (pyroomacoustics, image
    sources up to MAX_ORDER reflections). A room too large for so short an echo gets the shortest its walls allow."""
    import pyroomacoustics as pra

    volume, surface = np.prod(sides), 2 * (sides[0] * sides[1] + sides[0] * sides[2] + sides[1] * sides[2])
    shortest = 24 * np.log(10) / SOUND_SPEED * volume / surface  # Sabine's, with walls absorbing everything
    absorption, order = pra.inverse_sabine(max(rt60, 1.01 * shortest), sides, c=SOUND_SPEED)
    room = pra.ShoeBox(list(sides), fs=rate, materials=pra.Material(absorption), max_order=min(order, MAX_ORDER))
    room.add_source(list(source))
    room.add_microphone(list(microphone))
    room.compute_rir()
    return np.asarray(room.rir[0][0], np.float32)


def band_pass(samples: np.ndarray, low_hz: float, high_hz: float, rate: int) -> np.ndarray:
    """Only what lies between `low_hz` and `high_hz` (a telephone line: 300-3400 Hz), without delay."""
    from scipy.signal import butter, sosfiltfilt

    sections = butter(BAND_ORDER, [low_hz, high_hz], btype="bandpass", fs=rate, output="sos")
    return sosfiltfilt(sections, samples).astype(np.float32)


def compression_level(codec: str, kbps: float, rate: int) -> float:
    """libsndfile's compression level (0 best .. 1 smallest) for about `kbps`. libsndfile maps the level
    linearly onto the codec's bit rates: for MP3 (constant rate) 32-320 kbps from 32 kHz, 8-160 from 16 kHz,
    8-64 below; for Opus about 6-256 kbps (measured: tests/test_augment.py)."""
    if codec == "opus":
        low, high = 6.0, 256.0
    else:
        low, high = (32.0, 320.0) if rate >= 32000 else (8.0, 160.0) if rate >= 16000 else (8.0, 64.0)
    # libsndfile truncates the rate it computes: half a kbps above keeps the lowest rate from rounding below it
    return float(np.clip((high - (kbps + 0.5)) / (high - low), 0.0, 0.999))


def codec_round_trip(samples: np.ndarray, codec: str, kbps: float, rate: int) -> np.ndarray:
    """Encoded at about `kbps` and decoded again, in memory; as long as it was and aligned with it."""
    peak = float(np.max(np.abs(samples), initial=0.0)) or 1.0
    scale = 0.5 / peak  # encoded well inside full scale, where libsndfile would clip
    container, subtype = CODECS[codec]
    encoded = io.BytesIO()
    sf.write(encoded, samples * scale, rate, format=container, subtype=subtype,
             compression_level=compression_level(codec, kbps, rate),
             **({"bitrate_mode": "CONSTANT"} if codec == "mp3" else {}))
    encoded.seek(0)
    decoded, _ = sf.read(encoded, dtype="float32")
    return aligned(decoded, samples) / np.float32(scale)


def aligned(decoded: np.ndarray, original: np.ndarray) -> np.ndarray:
    """`decoded` moved back by the codec's delay (the lag at which it best matches `original`), cut or padded
    to `original`'s length. MP3 frames too small for LAME's gapless header (below ~40 kbps) come out delayed."""
    spare = len(decoded) - len(original)
    if spare <= 0:
        return np.pad(decoded, (0, -spare))
    from scipy.signal import correlate

    lag = int(np.argmax(correlate(decoded, original, mode="valid")))
    return decoded[lag:lag + len(original)]


def clipped(samples: np.ndarray, share: float) -> np.ndarray:
    """The loudest `share` of the samples cut flat, at the level the others stay within."""
    threshold = np.quantile(np.abs(samples), 1 - share)
    return np.clip(samples, -threshold, threshold)


def gained(samples: np.ndarray, db: float) -> np.ndarray:
    """Scaled by `db` and stored as 16-bit PCM stores it: rounded to its steps, clipped at full scale."""
    return pcm.as_float(pcm.convert(samples * np.float32(10 ** (db / 20)), "int16"))
