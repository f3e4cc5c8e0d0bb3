"""Encoded utterances in a memory-mappable layout.

A store is a folder with every clip's samples (mono, at the rate in `store.json`) back to
back in `audio.i16` (16-bit PCM) or `audio.f32`, every label sequence back to back in
`labels.i32` (all little-endian, raw, so `np.memmap` opens them without reading), and
`index.tsv` giving each utterance's offsets and lengths.
Readers slice views out of the maps in the stored type; `pcm.as_float` turns a clip
into float32 samples when a batch is built.
"""

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ctc_asr.core import tables
from ctc_asr.data import pcm

LABELS, INDEX, META = "labels.i32", "index.tsv", "store.json"
AUDIO = {"int16": "audio.i16", "float32": "audio.f32"}
INDEX_COLUMNS = ["id", "split", "seconds", "audio_offset", "audio_length", "label_offset", "label_length"]
_AUDIO_DTYPES, _LABEL_DTYPE = {name: np.dtype(t).newbyteorder("<") for name, t in pcm.TYPES.items()}, np.dtype("<i4")


class Writer:
    """Append utterances one at a time; `close` writes the index. As a context manager, an error
    closes the files without an index: a store that failed part way never looks complete."""

    def __init__(self, folder: Path, sample_rate: int, dtype: str = "int16"):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sample_rate, self.dtype = sample_rate, dtype
        self._audio = open(self.folder / AUDIO[dtype], "wb")
        self._labels = open(self.folder / LABELS, "wb")
        self._rows: list[dict] = []
        self._audio_offset = self._label_offset = 0

    def add(self, row: dict, samples: np.ndarray, labels) -> None:
        """`samples`: float, or already in the store's type (see `pcm.convert`)."""
        samples = pcm.convert(samples, self.dtype).astype(_AUDIO_DTYPES[self.dtype], copy=False)
        labels = np.asarray(labels, _LABEL_DTYPE)
        self._audio.write(np.ascontiguousarray(samples).data)
        self._labels.write(labels.data)
        self._rows.append({
            **row, "seconds": round(len(samples) / self.sample_rate, 4),
            "audio_offset": self._audio_offset, "audio_length": len(samples),
            "label_offset": self._label_offset, "label_length": len(labels),
        })
        self._audio_offset += len(samples)
        self._label_offset += len(labels)

    def close(self) -> pd.DataFrame:
        self._close_files()
        index = pd.DataFrame(self._rows, columns=None if self._rows else INDEX_COLUMNS)
        tables.write(index, self.folder / INDEX)
        meta = {"sample_rate": self.sample_rate, "dtype": self.dtype, "utterances": len(index)}
        (self.folder / META).write_text(json.dumps(meta))
        return index

    def _close_files(self) -> None:
        self._audio.close()
        self._labels.close()

    def __enter__(self):
        return self

    def __exit__(self, error_type, *_):
        if error_type is None:
            self.close()
        else:
            self._close_files()


def build(folder: Path, sample_rate: int, dtype: str, utterances: Iterable[tuple[dict, np.ndarray | None]],
          labels: Callable[[str], list[int]], columns: list[str]) -> int:
    """Write a store of `utterances`, (row, samples) pairs in order, samples None for a clip left out; each
    row's `columns` kept in the index (its text among them), its labels `labels(text)`. Returns the count written."""
    written = 0
    with Writer(folder, sample_rate, dtype) as writer:
        for row, samples in utterances:
            if samples is not None:
                writer.add({k: row[k] for k in columns}, samples, labels(row["text"]))
                written += 1
    return written


def _map(path: Path, dtype: np.dtype) -> np.ndarray:
    # np.memmap refuses empty files; an empty store is still a valid store.
    return np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else np.zeros(0, dtype)


class Store:
    """Read side: `store.audio(i)` and `store.labels(i)` are views into the memory maps (see `pcm.as_float`)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.index = tables.read(self.folder / INDEX)
        meta = json.loads((self.folder / META).read_text())
        self.sample_rate, self.dtype = meta["sample_rate"], meta["dtype"]
        self._audio = _map(self.folder / AUDIO[self.dtype], _AUDIO_DTYPES[self.dtype])
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
