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
    """GroupNorm of (batch, channels, time) with statistics over each clip's valid steps only."""
    hidden = hidden.float()  # statistics in fp32, as autocast runs GroupNorm
    batch, channels, _ = hidden.shape
    per_group = channels // norm.num_groups
    weight = valid.to(hidden.dtype)[:, :, None]
    count = weight.sum(1, keepdim=True) * per_group

    def group_mean(x: torch.Tensor) -> torch.Tensor:
        # bmm sums over valid time steps without a masked copy of the (large) activations
        sums = torch.bmm(x, weight).reshape(batch, norm.num_groups, per_group).sum(-1, keepdim=True)
        return (sums / count).repeat_interleave(per_group, dim=1)

    centered = hidden - group_mean(hidden)
    scale = torch.rsqrt(group_mean(centered.square()) + norm.eps) * norm.weight[None, :, None]
    return torch.addcmul(norm.bias[None, :, None], centered, scale)


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

    def masked(hidden: torch.Tensor) -> torch.Tensor:
        steps = torch.arange(hidden.shape[-1], device=hidden.device)
        return _masked_group_norm(hidden, steps[None, :] < valid_frames[:, None].to(hidden.device), norm)

    # An instance attribute shadows GroupNorm.forward (a forward hook would compute the plain
    # norm first and throw it away: a full extra pass over the largest activation).
    norm.forward = masked
    try:
        yield
    finally:
        del norm.forward
