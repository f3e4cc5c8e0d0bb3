"""Encoded utterances in a memory-mappable layout.

A store is a folder with every clip's samples (mono, at the rate in `store.json`) back to
back in `audio.f32`, every label sequence back to back in `labels.i32` (both little-endian,
raw, so `np.memmap` opens them without reading), and `index.tsv` giving each utterance's
offsets and lengths.
Readers slice views out of the maps; nothing is copied into Python lists.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import tables

AUDIO, LABELS, INDEX, META = "audio.f32", "labels.i32", "index.tsv", "store.json"
INDEX_COLUMNS = ["id", "split", "seconds", "audio_offset", "audio_length", "label_offset", "label_length"]
_AUDIO_DTYPE, _LABEL_DTYPE = np.dtype("<f4"), np.dtype("<i4")


class Writer:
    """Append utterances one at a time; `close` writes the index."""

    def __init__(self, folder: Path, sample_rate: int):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sample_rate = sample_rate
        self._audio = open(self.folder / AUDIO, "wb")
        self._labels = open(self.folder / LABELS, "wb")
        self._rows: list[dict] = []
        self._audio_offset = self._label_offset = 0

    def add(self, row: dict, samples: np.ndarray, labels) -> None:
        samples = np.asarray(samples, _AUDIO_DTYPE)
        labels = np.asarray(labels, _LABEL_DTYPE)
        self._audio.write(samples.tobytes())
        self._labels.write(labels.tobytes())
        self._rows.append({
            **row, "seconds": round(len(samples) / self.sample_rate, 4),
            "audio_offset": self._audio_offset, "audio_length": len(samples),
            "label_offset": self._label_offset, "label_length": len(labels),
        })
        self._audio_offset += len(samples)
        self._label_offset += len(labels)

    def close(self) -> pd.DataFrame:
        self._audio.close()
        self._labels.close()
        index = pd.DataFrame(self._rows, columns=None if self._rows else INDEX_COLUMNS)
        tables.write(index, self.folder / INDEX)
        (self.folder / META).write_text(json.dumps({"sample_rate": self.sample_rate, "utterances": len(index)}))
        return index

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _map(path: Path, dtype: np.dtype) -> np.ndarray:
    # np.memmap refuses empty files; an empty store is still a valid store.
    return np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else np.zeros(0, dtype)


class Store:
    """Read side: `store.audio(i)` and `store.labels(i)` are views into the memory maps."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.index = tables.read(self.folder / INDEX)
        self.sample_rate = json.loads((self.folder / META).read_text())["sample_rate"]
        self._audio = _map(self.folder / AUDIO, _AUDIO_DTYPE)
        self._labels = _map(self.folder / LABELS, _LABEL_DTYPE)
        self._audio_spans = self.index[["audio_offset", "audio_length"]].to_numpy()
        self._label_spans = self.index[["label_offset", "label_length"]].to_numpy()

    def __len__(self) -> int:
        return len(self.index)

    def __getstate__(self) -> dict:
        # Pickled for data-loader workers: send the folder, not the mapped arrays' contents.
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["folder"])

    def audio(self, i: int) -> np.ndarray:
        start, length = self._audio_spans[i]
        return self._audio[start:start + length]

    def labels(self, i: int) -> np.ndarray:
        start, length = self._label_spans[i]
        return self._labels[start:start + length]

    def rows(self, split: str) -> np.ndarray:
        """Positions of the utterances in `split`."""
        return np.flatnonzero(self.index["split"].to_numpy() == split)
