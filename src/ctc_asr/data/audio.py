"""Audio loading: any format libsndfile reads, mixed to mono, resampled with soxr, a block at a time."""

import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ctc_asr.core.errors import BadInput, UserError
from ctc_asr.data import pcm

# libsndfile decodes MP3 from 1.1 on. soundfile's wheels bundle one that does and use it before the system's;
# without a wheel for the platform, soundfile loads the system's libsndfile (Ubuntu 22.04's is 1.0.31).
MP3_FIX = ("soundfile's wheels (0.12 on; Linux x86-64 and ARM64, macOS, Windows) bundle one that can: "
           "pip install --force-reinstall 'soundfile>=0.12'; elsewhere install libsndfile 1.1 or later "
           "(docs/data.md, Common Voice)")

BLOCK_FRAMES = 1 << 16  # read at a time, so memory for reading does not grow with the file
# What a header may claim, in samples (frames x channels) per byte of file. Digital silence is the most
# compressible audio: about 340 a byte in FLAC as libsndfile writes it, under 7,300 with FLAC's largest blocks.
MAX_SAMPLES_PER_BYTE = 20_000
Segment = tuple[float, float]  # (offset, duration) in seconds: an utterance cut out of a longer recording


@functools.cache
def decodes_mp3() -> bool:
    return "MP3" in sf.available_formats()


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
    if path.suffix.lower() == ".mp3" and not decodes_mp3():  # the platform's fault, not the file's: stop whatever on_error says
        raise UserError(f"{path}: this libsndfile ({sf.__libsndfile_version__}) cannot decode MP3; {MP3_FIX}")
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise BadInput(path, "not readable audio", _why(error)) from None
    if info.frames <= 0:
        raise BadInput(path, "no samples")
    size = path.stat().st_size
    if info.frames * info.channels > MAX_SAMPLES_PER_BYTE * size:  # a forged or broken header: don't trust it
        raise BadInput(path, "header claims more audio than the file can hold",
                       f"{info.frames} frames of {info.channels} channel(s), {info.frames / info.samplerate / 3600:.1f} h, "
                       f"in {size} bytes")
    return info


def load(path: str | Path, sample_rate: int, dtype: str = "float32", segment: Segment | None = None) -> np.ndarray:
    """Mono samples at `sample_rate` as `dtype` (see pcm.py); BadInput names the file if it can't be read.
    With a `segment`, that stretch of the file alone (see `stream`)."""
    return pcm.convert(np.concatenate(list(stream(path, sample_rate, segment))), dtype)


def load_clip(clip: tuple[str | Path, Segment | None], sample_rate: int, dtype: str = "float32") -> np.ndarray:
    """`load` of a (path, segment or None) pair: the one argument that parallel.ordered_map passes."""
    path, segment = clip
    return load(path, sample_rate, dtype, segment)


def stream(path: str | Path, sample_rate: int, segment: Segment | None = None) -> Iterator[np.ndarray]:
    """Mono float32 samples at `sample_rate` in blocks, read, mixed and resampled a block at a time:
    concatenated, the very samples of resampling the whole file at once (soxr's stream is exact).
    A `segment` is sought to and read alone, as if it were a file of its own: an hour-long recording
    cut into 500 utterances costs 500 short reads, not 500 decodings of the hour."""
    path = Path(path)
    info = probe(path)
    resampler = (None if info.samplerate == sample_rate else
                 soxr.ResampleStream(info.samplerate, sample_rate, 1, dtype="float32", quality="HQ"))
    read = 0
    for block in _blocks(path, *_frames(segment, info.samplerate)):
        read += len(block)
        mono = block.mean(axis=1)
        yield mono if resampler is None else resampler.resample_chunk(mono)
    if not read:
        raise BadInput(path, "no samples")
    if resampler is not None:
        yield resampler.resample_chunk(np.zeros(0, np.float32), last=True)


def _frames(segment: Segment | None, rate: int) -> tuple[int, int | None]:
    """The first frame and the number of frames of `segment` (None: the whole file). Both ends are
    rounded from seconds, so that segments which meet in seconds meet in frames too."""
    if segment is None:
        return 0, None
    offset, duration = segment
    start = round(offset * rate)
    return start, round((offset + duration) * rate) - start


def _blocks(path: Path, start: int = 0, frames: int | None = None) -> Iterator[np.ndarray]:
    # Read until the data ends (or the segment does), not for as many frames as the header claims.
    left = BLOCK_FRAMES if frames is None else frames
    try:
        with sf.SoundFile(path) as file:
            if start:
                file.seek(start)  # libsndfile seeks without decoding what comes before (FLAC: its seek table)
            while left > 0 and len(block := file.read(min(BLOCK_FRAMES, left), dtype="float32", always_2d=True)):
                if frames is not None:
                    left -= len(block)
                yield block
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise BadInput(path, "not readable audio", _why(error)) from None
