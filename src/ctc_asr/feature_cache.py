"""A frozen conv feature encoder's output, computed once per clip instead of once per epoch.

With `train.freeze_feature_encoder` (and no augmentation of the waveform) a clip's conv features
are the same every epoch: the conv stack is a fifth of a wav2vec2-base step's FLOPs and, on
cuDNN, most of its time. Each training clip's frames are computed once, in exact batches
(inference.per_clip) and under the run's autocast, and kept back to back, (frames, channels):
on the training device when they fit in half its free memory, else in a memory-mapped file
the data-loader workers read. A batch then holds either an index into the device copy
(`frame_index`, gathered by `take` in the training process) or the features themselves.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import Wav2Vec2ForCTC

from . import precision
from .batching import frame_batch
from .geometry import output_frames, samples_per_frame
from .inference import per_clip
from .store import Store
from .training_loss import conv_features

# numpy has no bfloat16: the file holds each value's bytes as integers of its size, read back with Tensor.view
_RAW = {2: torch.int16, 4: torch.int32}


def free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


class FeatureCache:
    """Conv features of clips 0..n-1 (positions in the `rows` it was computed for)."""

    def __init__(self, lengths: np.ndarray, frames_multiple: int):
        self.lengths = np.asarray(lengths, np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.multiple = frames_multiple
        self.frames: torch.Tensor | None = None  # on the device
        self.path: Path | None = None  # or in this file
        self.dtype = torch.float32
        self._folder = self._mapped = None

    @classmethod
    def compute(cls, model: Wav2Vec2ForCTC, store: Store, rows: np.ndarray, dtype: torch.dtype | None,
                multiple_samples: int = 1, budget: int | None = None, batch_size: int = 32,
                progress: bool = True) -> "FeatureCache":
        """The features of `store`'s `rows`, computed under autocast to `dtype` (None: fp32) on the model's
        device; kept there if they fit in `budget` bytes (default: half the device's free memory)."""
        device = next(model.parameters()).device
        lengths = output_frames(model.config, store.index["audio_length"].to_numpy()[rows])
        cache = cls(lengths, max(1, multiple_samples // samples_per_frame(model.config)))
        budget = free_bytes(device) // 2 if budget is None else budget
        clips = [store.audio(i) for i in rows]
        with torch.no_grad(), precision.autocast(device, dtype):
            for i, frames in per_clip(model, clips, lambda batch: conv_features(model, batch["input_values"]),
                                      batch_size, progress, desc="features"):
                if cache.frames is None and cache.path is None:  # the first clip tells the dtype
                    cache._allocate(frames.dtype, frames.shape[-1], device, budget)
                cache._write(i, frames)
        if cache.path:
            cache._map().flush()
        return cache

    def _allocate(self, dtype: torch.dtype, channels: int, device: torch.device, budget: int) -> None:
        self.dtype = dtype
        shape = (int(self.lengths.sum()), channels)
        if shape[0] * channels * dtype.itemsize <= budget:
            self.frames = torch.zeros(shape, dtype=dtype, device=device)
            return
        self._folder = tempfile.TemporaryDirectory(prefix="ctc_asr-features-")
        self.path = Path(self._folder.name) / "features.npy"
        raw = torch.empty(0, dtype=_RAW[dtype.itemsize]).numpy().dtype
        self._mapped = np.lib.format.open_memmap(self.path, "w+", raw, shape)

    def _map(self) -> np.ndarray:
        if self._mapped is None:
            self._mapped = np.load(self.path, mmap_mode="r")
        return self._mapped

    def _write(self, i: int, frames: torch.Tensor) -> None:
        span = slice(self.offsets[i], self.offsets[i] + self.lengths[i])
        if self.frames is not None:
            self.frames[span] = frames
        else:
            self._map()[span] = frames.cpu().view(_RAW[self.dtype.itemsize]).numpy()

    @property
    def on_device(self) -> bool:
        return self.path is None

    def batch(self, positions: np.ndarray) -> dict[str, torch.Tensor]:
        """Frame mask and lengths of clips `positions`, with `frame_index` (on the device) or `features`.

        Widths are rounded up to the frames of `multiple_samples`; padded frames repeat a clip's
        last frame (the encoder zeroes them, as it zeroes an uncached batch's padding).
        """
        lengths = self.lengths[positions]
        width = int(-(-lengths.max() // self.multiple) * self.multiple)
        index = self.offsets[positions][:, None] + np.minimum(np.arange(width)[None, :], lengths[:, None] - 1)
        batch = frame_batch(lengths, width)
        if self.on_device:
            batch["frame_index"] = torch.from_numpy(index)
        else:
            batch["features"] = torch.from_numpy(np.ascontiguousarray(self._map()[index])).view(self.dtype)
        return batch

    def take(self, frame_index: torch.Tensor) -> torch.Tensor:
        """(batch, width, channels) features of a batch's `frame_index`, gathered on the device."""
        return self.frames[frame_index]

    def __getstate__(self) -> dict:
        # For data-loader workers: never the device copy (the training process gathers from it), nor an open map.
        return {**self.__dict__, "frames": None, "_mapped": None, "_folder": None}

    def close(self) -> None:
        """Free the device copy or delete the file."""
        self.frames = self._mapped = None
        if self._folder:
            self._folder.cleanup()
