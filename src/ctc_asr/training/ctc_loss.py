"""Wav2Vec2ForCTC's training loss without host waits: HF's computation, from the same submodules.

HF's forward reads the GPU back several times a step: `labels.max()` to check the labels,
`masked_select` to pack the targets, boolean-index assignments for SpecAugment and for zeroing
padded frames, `mask.all()` to decide whether attention needs a mask. Each one stops the CPU
until the GPU has caught up, so the CPU cannot queue the next kernels while the GPU works.
`TrainingLoss` computes the same loss (tests/test_training_loss.py: HF's loss and gradients to
1e-5) with masks drawn on the host (spec_augment.py), `torch.where` instead of boolean indexing,
and CTC on padded targets with lengths that stay on the host, where `F.ctc_loss` reads them.

It starts from the conv encoder's output, so a frozen encoder's output can come from a cache
(feature_cache.py). Weights, parameter names and saved checkpoints are HF's own.
"""

import torch
from torch import nn
from torch.nn import functional as F
from transformers import Wav2Vec2ForCTC
from transformers.masking_utils import create_bidirectional_mask

# Batch entries `F.ctc_loss` reads on the host: moving them to the GPU would make it copy them back.
HOST_KEYS = ("frame_lengths", "label_lengths")


def conv_features(model: Wav2Vec2ForCTC, input_values: torch.Tensor) -> torch.Tensor:
    """The conv feature encoder's output, (batch, frames, channels)."""
    return model.wav2vec2.feature_extractor(input_values).transpose(1, 2)


class TrainingLoss(nn.Module):
    """The CTC loss of a batch, from audio (`input_values`) or from conv features (`features`).

    frame_mask: (batch, frames) bool, True on each clip's frames. labels: (batch, longest) padded
    with -100. frame_lengths, label_lengths: (batch,) int64 on the host. time_mask (batch, frames),
    feature_mask (batch, hidden): SpecAugment's masks, where drawn.
    """

    def __init__(self, model: Wav2Vec2ForCTC):
        super().__init__()
        self.model = model

    def forward(self, frame_mask, labels, frame_lengths, label_lengths, input_values=None, features=None,
                time_mask=None, feature_mask=None) -> torch.Tensor:
        if features is None:
            features = conv_features(self.model, input_values)
        hidden = self.project(features, time_mask, feature_mask)
        return self.ctc(self.encode(hidden, frame_mask), labels, frame_lengths, label_lengths)

    def project(self, features, time_mask, feature_mask) -> torch.Tensor:
        wav2vec2 = self.model.wav2vec2
        hidden, _ = wav2vec2.feature_projection(features)
        if time_mask is not None:
            hidden = torch.where(time_mask[..., None], wav2vec2.masked_spec_embed.to(hidden.dtype), hidden)
        if feature_mask is not None:
            hidden = hidden.masked_fill(feature_mask[:, None, :], 0)
        return hidden

    def encode(self, hidden: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        """Wav2Vec2Encoder / Wav2Vec2EncoderStableLayerNorm's forward, padding zeroed without indexing."""
        encoder = self.model.wav2vec2.encoder
        stable = self.model.config.do_stable_layer_norm
        hidden = hidden.masked_fill(~frame_mask[..., None], 0)
        # always a mask: letting HF skip it when nothing is padded needs a `.all()` on the GPU
        attention = create_bidirectional_mask(config=encoder.config, inputs_embeds=hidden, attention_mask=frame_mask,
                                              allow_is_bidirectional_skip=False)
        hidden = hidden + encoder.pos_conv_embed(hidden)
        hidden = encoder.dropout(hidden if stable else encoder.layer_norm(hidden))
        for layer in encoder.layers:
            # LayerDrop, drawn as HF draws it: from torch's CPU generator, one draw a layer
            if self.training and self.model.config.layerdrop > 0 and torch.rand([]) < self.model.config.layerdrop:
                continue
            hidden = layer(hidden, attention_mask=attention)
        return encoder.layer_norm(hidden) if stable else hidden

    def ctc(self, hidden, labels, frame_lengths, label_lengths) -> torch.Tensor:
        config = self.model.config
        logits = self.model.lm_head(self.model.dropout(hidden))
        log_probs = F.log_softmax(logits, dim=-1, dtype=torch.float32).transpose(0, 1)
        # padded targets: entries past a clip's label length are never read; the clamp keeps them valid ids
        with torch.backends.cudnn.flags(enabled=False):  # as HF: cuDNN's CTC wants host targets and equal lengths
            return F.ctc_loss(log_probs, labels.clamp(min=0), frame_lengths, label_lengths, blank=config.pad_token_id,
                              reduction=config.ctc_loss_reduction, zero_infinity=config.ctc_zero_infinity)
