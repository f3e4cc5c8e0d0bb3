import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor

from ctc_asr.network import batches as padded
from ctc_asr.network.batches import length_batches
from ctc_asr.network.geometry import output_frames

BASE = Wav2Vec2Config()  # wav2vec2-base's conv geometry: 400-sample first kernel, 320 samples a frame


def random_lengths(rng, n=60):
    return rng.integers(1000, 20000, n)


def flatten(batches):
    return np.concatenate(batches).tolist()


def test_every_position_is_used_exactly_once(rng):
    lengths = random_lengths(rng)
    batches = length_batches(lengths, 50000, np.random.default_rng(0))
    assert sorted(flatten(batches)) == list(range(len(lengths)))


def test_padded_size_stays_within_budget(rng):
    lengths = random_lengths(rng)
    budget = 50000
    for batch in length_batches(lengths, budget, np.random.default_rng(0)):
        assert len(batch) * lengths[batch].max() <= budget


def test_an_over_long_clip_gets_a_batch_of_its_own():
    lengths = np.array([100, 120, 110, 5000, 90, 130])
    batches = length_batches(lengths, 400, np.random.default_rng(3))
    assert [3] in [b.tolist() for b in batches]
    for batch in batches:
        if 3 not in batch:
            assert len(batch) * lengths[batch].max() <= 400
    assert sorted(flatten(batches)) == list(range(6))


def test_batches_group_similar_lengths():
    lengths = np.array([100] * 4 + [1000] * 4)
    batches = length_batches(lengths, 4000, np.random.default_rng(0))
    assert sorted(sorted(b.tolist()) for b in batches) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_batch_order_is_shuffled():
    # Lengths far apart and a small budget: one clip a batch, so only the shuffle reorders them.
    lengths = np.array([100, 1000, 10000, 100000])
    orders = [[int(b[0]) for b in length_batches(lengths, 150, np.random.default_rng(seed))]
              for seed in range(10)]
    assert all(sorted(order) == [0, 1, 2, 3] for order in orders)
    assert any(order != [0, 1, 2, 3] for order in orders)


def test_same_seed_gives_same_batches(rng):
    lengths = random_lengths(rng)
    first = length_batches(lengths, 50000, np.random.default_rng(7))
    second = length_batches(lengths, 50000, np.random.default_rng(7))
    assert [b.tolist() for b in first] == [b.tolist() for b in second]


def test_other_seeds_and_epochs_give_other_batches(rng):
    lengths = random_lengths(rng)
    epochs = np.random.default_rng(7)
    first = [b.tolist() for b in length_batches(lengths, 50000, epochs)]
    second = [b.tolist() for b in length_batches(lengths, 50000, epochs)]
    other = [b.tolist() for b in length_batches(lengths, 50000, np.random.default_rng(8))]
    assert first != second
    assert first != other


def test_no_lengths_give_no_batches():
    assert length_batches(np.array([], int), 100, np.random.default_rng(0)) == []


def test_collate_matches_the_hf_feature_extractor(make_store, rng):
    clips = [(0.3 + 0.1 * rng.standard_normal(n)).astype(np.float32) for n in (700, 1600, 1100)]
    store = make_store(clips, [[1, 2], [3], [4, 5, 6]])
    batch = padded.audio_batch(store, np.array([0, 1, 2]), BASE)
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=True)
    reference = extractor(clips, sampling_rate=16000, padding=True, return_tensors="np")
    mask = (np.arange(1600)[None, :] < batch["samples"].numpy()[:, None]).astype(int)
    np.testing.assert_array_equal(mask, reference["attention_mask"])
    values = batch["input_values"].numpy()
    assert values.shape == (3, 1600)
    np.testing.assert_allclose(values[mask == 1], reference["input_values"][mask == 1], atol=1e-5)
    assert np.all(values[mask == 0] == 0)


def test_collate_normalises_each_clip_on_its_own(make_store):
    clips = [np.array([1, 2, 3, 4], np.float32), np.array([10, 30], np.float32)]
    batch = padded.audio_batch(make_store(clips, [[1], [1]]), np.array([0, 1]), BASE)
    values = batch["input_values"].numpy()
    np.testing.assert_allclose(values[0], (clips[0] - 2.5) / np.sqrt(1.25), atol=1e-5)
    np.testing.assert_allclose(values[1], [-1, 1, 0, 0], atol=1e-5)
    assert batch["samples"].tolist() == [4, 2]


def test_an_audio_batch_marks_the_frames_each_clip_gives(make_store):
    store = make_store([np.ones(16000), np.ones(5000), np.ones(8000)], [[1], [1], [1]])
    batch = padded.audio_batch(store, np.array([1, 0, 2]), BASE, multiple=4000)
    assert batch["input_values"].shape == (3, 16000)
    expected = output_frames(BASE, np.array([5000, 16000, 8000]))
    assert batch["frame_lengths"].tolist() == expected.tolist() == [15, 49, 24]
    assert batch["frame_mask"].shape == (3, 49)
    assert batch["frame_mask"].sum(-1).tolist() == expected.tolist()
    assert batch["frame_mask"][0, :15].all() and not batch["frame_mask"][0, 15:].any()


def test_labels_are_padded_with_minus_100_in_row_order(make_store):
    store = make_store([np.ones(5), np.ones(5), np.ones(5)], [[4, 5], [], [6, 7, 8]])
    batch = padded.label_batch([store.labels(i) for i in (2, 0, 1)])
    assert batch["labels"].tolist() == [[6, 7, 8], [4, 5, -100], [-100, -100, -100]]
    assert batch["label_lengths"].tolist() == [3, 2, 0]
    assert batch["labels"].dtype == batch["label_lengths"].dtype == torch.int64


@pytest.mark.parametrize("clip", [np.zeros(10, np.float32), np.full(10, 0.5, np.float32)])
def test_normalize_of_a_constant_clip_is_finite_zero(clip):
    assert np.all(padded.standardize(clip) == 0)


def test_pad_rounds_the_width_up_to_a_multiple():
    from ctc_asr.network.batches import pad

    batch = pad([np.ones(1001, np.float32), np.arange(10, dtype=np.float32)], multiple=500)
    assert batch["input_values"].shape == (2, 1500)
    assert batch["attention_mask"].sum(-1).tolist() == [1001, 10]
    assert batch["input_values"][:, 1001:].abs().sum() == 0


def test_an_int16_batch_is_the_batch_of_its_float_samples(make_store, rng):
    clips = [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in (700, 400)]
    pcm, floats = make_store(clips, [[1], [2]], dtype="int16"), make_store(clips, [[1], [2]])
    quantized = [np.rint(c * 32768).astype(np.float32) / 32768 for c in clips]
    expected = padded.pad(quantized)["input_values"]
    assert pcm.audio(0).dtype == np.int16
    torch.testing.assert_close(padded.audio_batch(pcm, np.array([0, 1]), BASE)["input_values"], expected, rtol=0,
                               atol=1e-6)
    # and the float store differs from it by no more than the quantization (about 1e-4 after standardizing)
    torch.testing.assert_close(padded.audio_batch(floats, np.array([0, 1]), BASE)["input_values"], expected, rtol=0,
                               atol=1e-3)
