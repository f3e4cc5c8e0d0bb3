import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

from ctc_asr.network.geometry import output_frames, samples_per_frame

SAMPLE_COUNTS = [0, 1, 5, 9, 10, 100, 319, 399, 400, 401, 719, 720, 721, 1000, 4321, 16000, 16319, 16320, 48000, 160007]
GEOMETRIES = {
    "wav2vec2": dict(conv_dim=[8] * 7),  # wav2vec2's kernels and strides; narrow channels build fast
    "odd": dict(conv_dim=[8, 8, 8], conv_kernel=[7, 5, 3], conv_stride=[3, 2, 2], num_feat_extract_layers=3),
}
SMALL = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
             num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)


@pytest.mark.parametrize("fields", GEOMETRIES.values(), ids=GEOMETRIES.keys())
def test_output_frames_match_transformers_own_count(fields):
    config = Wav2Vec2Config(**fields, **SMALL, vocab_size=5)
    reference = Wav2Vec2ForCTC(config)._get_feat_extract_output_lengths(torch.tensor(SAMPLE_COUNTS))
    assert torch.equal(output_frames(config, torch.tensor(SAMPLE_COUNTS)), reference.clamp(min=0))


def test_output_frames_match_receptive_field_arithmetic():
    # wav2vec2's stack: a 400-sample receptive field and a 320-sample hop
    expected = [0 if n < 400 else (n - 400) // 320 + 1 for n in SAMPLE_COUNTS]
    frames = output_frames(Wav2Vec2Config(), np.array(SAMPLE_COUNTS))
    assert isinstance(frames, np.ndarray) and frames.tolist() == expected


def test_the_first_layer_alone():
    assert output_frames(Wav2Vec2Config(), np.array([16000]), layers=1).tolist() == [(16000 - 10) // 5 + 1]


def test_samples_per_frame_is_the_total_stride():
    assert samples_per_frame(Wav2Vec2Config()) == 320
    assert samples_per_frame(Wav2Vec2Config(**GEOMETRIES["odd"])) == 12
