"""Exact padded batches for wav2vec2: each clip gets what it would get alone.

Padding leaks into two places. The transformer sees padded frames unless it gets a frame
mask, so every batch carries one. And wav2vec2-base's first conv layer
(feat_extract_norm="group") normalises each channel over all time steps, padding included;
`clip_wise_group_norm` recomputes that norm over each clip's valid frames only. Clips are
normalised before padding (`batching.pad`). Later conv layers need nothing: an output frame
inside a clip's valid length only reads valid input.
"""

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from transformers import Wav2Vec2ForCTC


def frames(model: Wav2Vec2ForCTC, samples: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Output frames of the conv stack for clips of `samples` samples (0 if too short)."""
    lengths = torch.as_tensor(samples)
    for kernel, stride in zip(model.config.conv_kernel, model.config.conv_stride):
        lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
    return lengths.clamp(min=0)


def seconds_per_frame(model: Wav2Vec2ForCTC, sample_rate: int) -> float:
    return float(np.prod(model.config.conv_stride)) / sample_rate


def _masked_group_norm(hidden: torch.Tensor, valid: torch.Tensor, norm: nn.GroupNorm) -> torch.Tensor:
    batch, channels, time = hidden.shape
    grouped = hidden.reshape(batch, norm.num_groups, -1, time)
    weight = valid[:, None, None, :].to(hidden.dtype)
    count = weight.sum(dim=(2, 3), keepdim=True) * grouped.shape[2]
    mean = (grouped * weight).sum(dim=(2, 3), keepdim=True) / count
    var = ((grouped - mean) ** 2 * weight).sum(dim=(2, 3), keepdim=True) / count
    normed = ((grouped - mean) / torch.sqrt(var + norm.eps)).reshape(batch, channels, time)
    return normed * norm.weight[None, :, None] + norm.bias[None, :, None]


@contextmanager
def clip_wise_group_norm(model: Wav2Vec2ForCTC, samples: torch.Tensor):
    """While active, the first conv layer's group norm sees only each clip's own frames."""
    first = model.wav2vec2.feature_extractor.conv_layers[0]
    norm = getattr(first, "layer_norm", None)
    if not isinstance(norm, nn.GroupNorm):
        yield
        return
    kernel, stride = first.conv.kernel_size[0], first.conv.stride[0]
    valid_frames = torch.div(samples - kernel, stride, rounding_mode="floor") + 1

    def hook(module, inputs, output):
        valid = torch.arange(output.shape[-1], device=output.device)[None, :] < valid_frames[:, None].to(output.device)
        return _masked_group_norm(inputs[0], valid, module)

    handle = norm.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()
