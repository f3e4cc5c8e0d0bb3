"""Audio loading: any format libsndfile reads, mixed to mono, resampled with soxr."""

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from . import pcm
from .errors import BadInput


def _why(error: Exception) -> str:
    # libsndfile says "Error opening '<path>': Format not recognised."; the path is named already.
    return str(error).rsplit("': ", 1)[-1].strip()


def probe(path: str | Path) -> sf._SoundFileInfo:
    """Header facts of an audio file; BadInput says what is wrong with it otherwise."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "missing file")
    if path.stat().st_size == 0:
        raise BadInput(path, "empty file")
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise BadInput(path, "not readable audio", _why(error)) from None
    if info.frames <= 0:
        raise BadInput(path, "no samples")
    return info


def load(path: str | Path, sample_rate: int, dtype: str = "float32") -> np.ndarray:
    """Mono samples at `sample_rate` as `dtype` (see pcm.py); BadInput names the file if it can't be read."""
    path = Path(path)
    probe(path)
    try:
        samples, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise BadInput(path, "not readable audio", _why(error)) from None
    if samples.shape[0] == 0:
        raise BadInput(path, "no samples")
    return pcm.convert(resample(samples.mean(axis=1), rate, sample_rate), dtype)


def resample(samples: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    if rate == sample_rate:
        return np.ascontiguousarray(samples, dtype=np.float32)
    return soxr.resample(samples, rate, sample_rate, quality="HQ").astype(np.float32, copy=False)
