"""SpecAugment masks drawn on the host, batch by batch, as HF's Wav2Vec2Model draws them in training.

HF draws the masks inside the forward pass, with numpy, and applies them by boolean indexing on
the GPU: the CPU stops there until the GPU catches up. Here the data-loader workers draw them
with HF's own sampler (`_compute_mask_indices`, the same distribution by construction), each
batch from a seed of its own: the masks depend on the run's seed and the step, not on how many
workers there are, and a resumed run draws what the uninterrupted one would have.
"""

from contextlib import contextmanager

import numpy as np
import torch
from transformers import Wav2Vec2Config
from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices


@contextmanager
def numpy_seeded(seed: int):
    """numpy's global generator (the one HF's sampler reads) seeded with `seed`, restored afterwards."""
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


def draw(config: Wav2Vec2Config, frame_lengths: np.ndarray, width: int, seed: int) -> dict[str, torch.Tensor]:
    """`time_mask` (batch, width) and `feature_mask` (batch, hidden_size) where the config asks for them.

    The time mask covers each clip's first `frame_lengths` frames only, as HF's does given the frame mask.
    A batch narrower than one time span gets no time mask (HF's sampler refuses it).
    """
    if not getattr(config, "apply_spec_augment", True):
        return {}
    masks = {}
    batch = len(frame_lengths)
    with numpy_seeded(seed):
        if config.mask_time_prob > 0 and width >= config.mask_time_length:
            valid = torch.from_numpy(np.arange(width)[None, :] < np.asarray(frame_lengths)[:, None])
            masks["time_mask"] = _compute_mask_indices((batch, width), config.mask_time_prob, config.mask_time_length,
                                                       attention_mask=valid, min_masks=config.mask_time_min_masks)
        if config.mask_feature_prob > 0:
            masks["feature_mask"] = _compute_mask_indices((batch, config.hidden_size), config.mask_feature_prob,
                                                          config.mask_feature_length,
                                                          min_masks=config.mask_feature_min_masks)
    return {name: torch.from_numpy(mask) for name, mask in masks.items()}
