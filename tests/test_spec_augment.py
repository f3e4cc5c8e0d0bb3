"""SpecAugment masks drawn in the data loader: HF's distribution, one seed a step, any number of workers."""

import numpy as np
import torch
from transformers import Wav2Vec2Config, Wav2Vec2Model

from ctc_asr.training import spec_augment
from ctc_asr.training.loader import PlannedBatches, loader

CONFIG = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, conv_dim=[8] * 7,
              num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)


def test_the_time_mask_is_the_one_hfs_forward_draws_from_the_same_seed():
    config = Wav2Vec2Config(**CONFIG, mask_time_prob=0.3, mask_time_length=5, mask_time_min_masks=2)
    model = Wav2Vec2Model(config).train()
    lengths, width = np.array([80, 37, 12]), 80
    frame_mask = torch.from_numpy(np.arange(width)[None, :] < lengths[:, None])
    for seed in range(20):
        hidden = torch.randn(3, width, 16)
        with spec_augment.numpy_seeded(seed):
            masked = model._mask_hidden_states(hidden.clone(), attention_mask=frame_mask)
        hf_mask = (masked != hidden).any(-1)
        ours = spec_augment.draw(config, lengths, width, seed)["time_mask"]
        assert ours.equal(hf_mask)
        assert not (ours & ~frame_mask).any()  # never past a clip's own frames


def test_the_masks_cover_about_the_share_asked_for():
    config = Wav2Vec2Config(**CONFIG, mask_time_prob=0.05, mask_feature_prob=0.2, mask_feature_length=4)
    draws = [spec_augment.draw(config, np.array([400, 300]), 400, seed) for seed in range(200)]
    time_share = np.mean([d["time_mask"][0].float().mean().item() for d in draws])
    feature_share = np.mean([d["feature_mask"].float().mean().item() for d in draws])
    # spans overlap, so the share masked is a little under mask_prob (HF: "an upper bound")
    assert 0.035 < time_share < 0.05 and 0.1 < feature_share < 0.2


def test_drawing_leaves_numpys_global_generator_alone():
    config = Wav2Vec2Config(**CONFIG, mask_time_prob=0.3)
    np.random.seed(5)
    expected = np.random.rand(3)
    np.random.seed(5)
    spec_augment.draw(config, np.array([50]), 50, seed=1)
    assert np.array_equal(np.random.rand(3), expected)


def test_no_masks_where_the_config_asks_for_none_or_the_batch_is_too_narrow():
    assert spec_augment.draw(Wav2Vec2Config(**CONFIG, mask_time_prob=0.0), np.array([50]), 50, 0) == {}
    assert spec_augment.draw(Wav2Vec2Config(**CONFIG, apply_spec_augment=False, mask_time_prob=0.5),
                             np.array([50]), 50, 0) == {}
    assert spec_augment.draw(Wav2Vec2Config(**CONFIG, mask_time_prob=0.5), np.array([8]), 8, 0) == {}  # span is 10


def planned(store, config, plan, **changes):
    return PlannedBatches(store, np.arange(len(store)), plan, config, multiple=1000, seed=7, **changes)


def test_batches_and_masks_are_the_same_for_any_worker_count_and_after_a_resume(make_store):
    rng = np.random.default_rng(0)
    store = make_store([rng.standard_normal(n).astype(np.float32) for n in (9000, 12000, 6000, 15000)],
                       [[1, 2], [3], [4, 5], [6]])
    config = Wav2Vec2Config(**CONFIG, mask_time_prob=0.3, mask_time_length=3)
    plan = [np.array([0, 1]), np.array([2, 3]), np.array([1, 3]), np.array([0, 2])]
    runs = [list(loader(planned(store, config, plan), workers, False, seed=0)) for workers in (0, 2)]
    resumed = list(loader(planned(store, config, plan[2:], first_step=2), 0, False, seed=0))
    for one, other in [*zip(runs[0], runs[1]), *zip(runs[0][2:], resumed)]:
        assert one.keys() == other.keys() and "time_mask" in one
        for key in one:
            assert one[key].equal(other[key]), key
    masks = [b["time_mask"] for b in runs[0]]
    assert not masks[0].equal(masks[3][:, :masks[0].shape[1]])  # each step draws its own
