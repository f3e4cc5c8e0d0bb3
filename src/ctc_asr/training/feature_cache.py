"""A frozen conv feature encoder's output, computed once per clip instead of once per epoch.

With `train.freeze_feature_encoder` (and no augmentation of the waveform) a clip's conv features
are the same every epoch: the conv stack is a fifth of a wav2vec2-base step's FLOPs and, on
cuDNN, most of its time. Each training clip's frames are computed once, in exact batches
(inference.per_clip) and under the run's autocast, and kept back to back, (frames, channels):
on the training device when they fit in half its free memory, else in a memory-mapped file in
$TMPDIR that the data-loader workers read. The file's space is reserved before the first write
(a full disk under a memory map is a bus error, not an exception); where there is not enough,
the frozen encoder is computed each step instead, as without the cache. A batch then holds either an index into the device copy
(`frame_index`, gathered by `take` in the training process) or the features themselves.
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import Wav2Vec2ForCTC

from ctc_asr.core.outputs import alive
from ctc_asr.data.store import Store
from ctc_asr.decoding.inference import per_clip
from ctc_asr.network.batches import frame_batch
from ctc_asr.network.geometry import output_frames, samples_per_frame
from ctc_asr.training import precision
from ctc_asr.training.ctc_loss import conv_features

PREFIX = "ctc_asr-features-"  # then the process id: folders of dead runs are removed
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
                progress: bool = True) -> "FeatureCache | None":
        """The features of `store`'s `rows`, computed under autocast to `dtype` (None: fp32) on the model's
        device; kept there if they fit in `budget` bytes (default: half the device's free memory), else
        in $TMPDIR; None when $TMPDIR has no room for them either."""
        device = next(model.parameters()).device
        lengths = output_frames(model.config, store.index["audio_length"].to_numpy()[rows])
        cache = cls(lengths, max(1, multiple_samples // samples_per_frame(model.config)))
        budget = free_bytes(device) // 2 if budget is None else budget
        clips = [store.audio(i) for i in rows]
        with torch.no_grad(), precision.autocast(device, dtype):
            for i, frames in per_clip(model, clips, lambda batch: conv_features(model, batch["input_values"]),
                                      batch_size, progress, desc="features"):
                if cache.frames is None and cache.path is None and not cache._allocate(  # the first clip tells the dtype
                        frames.dtype, frames.shape[-1], device, budget):
                    return None
                cache._write(i, frames)
        if cache.path:
            cache._map().flush()
        return cache

    def _allocate(self, dtype: torch.dtype, channels: int, device: torch.device, budget: int) -> bool:
        """Room for the features, on the device or in a file in $TMPDIR; False when there is none."""
        self.dtype = dtype
        shape = (int(self.lengths.sum()), channels)
        size = shape[0] * channels * dtype.itemsize
        if size <= budget:
            self.frames = torch.zeros(shape, dtype=dtype, device=device)
            return True
        remove_dead_runs_files()
        folder = Path(tempfile.gettempdir())
        if shutil.disk_usage(folder).free < size + _MARGIN:
            _no_room(folder, size)
            return False
        self._folder = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")
        self.path = Path(self._folder.name) / "features.npy"
        raw = torch.empty(0, dtype=_RAW[dtype.itemsize]).numpy().dtype
        self._mapped = np.lib.format.open_memmap(self.path, "w+", raw, shape)
        try:  # reserve the blocks now: the map's writes can then not run out of space
            with open(self.path, "r+b") as file:
                os.posix_fallocate(file.fileno(), 0, os.fstat(file.fileno()).st_size)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.close()
            self.path = None
            _no_room(folder, size)
            return False
        return True

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


_MARGIN = 1 << 30  # left free for everything else on the disk


def _no_room(folder: Path, size: int) -> None:
    print(f"train: the frozen encoder's features need {size / 1e9:.1f} GB in $TMPDIR ({folder}), which has "
          f"{shutil.disk_usage(folder).free / 1e9:.1f} GB free: computing the encoder each step instead "
          "(set TMPDIR to a folder with more room to cache them)")


def remove_dead_runs_files() -> None:
    """Feature files of runs that were killed (a kill skips their clean-up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX).split("-")[0]
        if folder.is_dir() and not (pid.isdigit() and alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)
