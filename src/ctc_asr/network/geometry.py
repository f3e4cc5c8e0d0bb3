"""The conv feature encoder's geometry: how many output frames a clip of n samples gives.

Read from the model's config (`conv_kernel`, `conv_stride`), so the filter, the exact
batching and long-form inference agree for any conv stack.
"""

import numpy as np
import torch
from transformers import Wav2Vec2Config


def output_frames(config: Wav2Vec2Config, samples, layers: int | None = None):
    """Frames after the first `layers` conv layers (all by default) for clips of `samples`
    samples; 0 for a clip too short for one. Keeps the array type: numpy in, numpy out."""
    numpy_in = isinstance(samples, np.ndarray)
    frames = torch.from_numpy(np.array(samples, np.int64)) if numpy_in else torch.as_tensor(samples, dtype=torch.int64)
    for kernel, stride in list(zip(config.conv_kernel, config.conv_stride))[:layers]:
        frames = (torch.div(frames - kernel, stride, rounding_mode="floor") + 1).clamp(min=0)
    return frames.numpy() if numpy_in else frames


def samples_per_frame(config: Wav2Vec2Config) -> int:
    """The conv stack's total stride: 320 samples (20 ms at 16 kHz) for every wav2vec2 checkpoint."""
    return int(np.prod(config.conv_stride))


def samples_for_frames(config: Wav2Vec2Config, frames: int) -> int:
    """The fewest samples that give `frames` output frames (0 for none): `output_frames` inverted."""
    if frames <= 0:
        return 0
    samples = int(frames)
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride))):
        samples = (samples - 1) * stride + kernel
    return samples
