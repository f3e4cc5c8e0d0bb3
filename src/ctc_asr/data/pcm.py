"""Samples as floats in [-1, 1) or as 16-bit PCM, scaled as libsndfile reads 16-bit files (1/32768 a step).

So a 16-bit source at the model's rate is stored exactly; anything else is rounded to the
nearest step (-96 dB), half the bytes of float32.
"""

import numpy as np

TYPES = {"int16": np.int16, "float32": np.float32}
_SCALE = 32768


def convert(samples: np.ndarray, dtype: str) -> np.ndarray:
    """Samples (float, or already int16) as `dtype`: int16 rounds to the nearest step and clips at full scale."""
    samples = np.asarray(samples)
    if dtype == "float32":
        return as_float(samples)
    if samples.dtype == np.int16:
        return samples
    scaled = np.rint(samples.astype(np.float32, copy=False) * _SCALE)
    return np.clip(scaled, -_SCALE, _SCALE - 1).astype(np.int16)


def as_float(samples: np.ndarray) -> np.ndarray:
    """Float32 samples of int16 or float input."""
    if samples.dtype.kind == "i":
        return samples.astype(np.float32) * np.float32(1 / _SCALE)
    return np.asarray(samples, np.float32)
