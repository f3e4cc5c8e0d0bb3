"""Exact padded batches for wav2vec2: each clip gets what it would get alone.

Padding leaks into two places. The transformer sees padded frames unless it gets a frame
mask, so every batch carries one. And wav2vec2-base's first conv layer
(feat_extract_norm="group") normalises each channel over all time steps, padding included;
`clip_wise_group_norm` recomputes that norm over each clip's valid frames only. Clips are
standardised before padding (`batching.pad`). Later conv layers need nothing: an output
frame inside a clip's valid length only reads valid input.
"""

from contextlib import contextmanager

import torch
from torch import nn
from transformers import Wav2Vec2ForCTC

from ctc_asr.network.geometry import output_frames


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
    valid_frames = output_frames(model.config, samples, layers=1)

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
