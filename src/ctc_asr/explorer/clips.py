"""Clips out of the encoded store, looked up by utterance id only: as WAV files and as waveform outlines."""

import io
import wave
from pathlib import Path

import numpy as np

from ctc_asr.core import layout
from ctc_asr.data import pcm
from ctc_asr.data.store import META, Store


class Clips:
    """The store's clips by id; none when the store is not in the workspace (a clone that pulled metrics only)."""

    def __init__(self, folder: Path = layout.ENCODED):
        self.store = Store(folder) if (Path(folder) / META).is_file() else None
        ids = [] if self.store is None else self.store.index["id"]
        self.position = {utterance: k for k, utterance in enumerate(ids)}

    def samples(self, utterance: str) -> np.ndarray | None:
        k = self.position.get(utterance)
        return None if k is None else self.store.audio(k)

    def wav(self, utterance: str) -> bytes | None:
        """A mono 16-bit WAV file of the clip (a float32 store's too: 16-bit PCM is what every browser plays)."""
        samples = self.samples(utterance)
        if samples is None:
            return None
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.store.sample_rate)
            out.writeframes(pcm.convert(samples, "int16").astype("<i2", copy=False).tobytes())
        return buffer.getvalue()

    def outline(self, utterance: str, points: int = 600) -> dict | None:
        """The waveform as `points` (min, max) pairs in [-1, 1], drawn by the page without decoding the audio."""
        samples = self.samples(utterance)
        if samples is None:
            return None
        x = pcm.as_float(np.asarray(samples))
        starts = np.linspace(0, len(x), min(points, len(x)) + 1).astype(int)[:-1]
        low, high = (np.round(f.reduceat(x, starts), 4).tolist() if len(x) else [] for f in (np.minimum, np.maximum))
        return {"seconds": len(x) / self.store.sample_rate, "low": low, "high": high}
