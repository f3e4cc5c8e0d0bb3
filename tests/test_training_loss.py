"""TrainingLoss computes HF's loss and gradients, without a host wait, from audio or from cached features."""

from contextlib import contextmanager

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

from ctc_asr.network.batches import audio_batch, label_batch
from ctc_asr.network.exact_group_norm import clip_wise_group_norm
from ctc_asr.training import spec_augment
from ctc_asr.training.ctc_loss import HOST_KEYS, TrainingLoss
from ctc_asr.training.feature_cache import FeatureCache

NO_DROPOUT = dict(hidden_dropout=0.0, activation_dropout=0.0, attention_dropout=0.0, feat_proj_dropout=0.0,
                  final_dropout=0.0, layerdrop=0.0)
LENGTHS = (16000, 9000, 4000)  # 1 s, 0.56 s, 0.25 s


def network(config: dict, freeze: bool = False) -> Wav2Vec2ForCTC:
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**{**NO_DROPOUT, "vocab_size": 12, "pad_token_id": 0,
                                             "ctc_loss_reduction": "mean", "ctc_zero_infinity": True, **config}))
    if freeze:
        model.freeze_feature_encoder()
    return model.train()


@pytest.fixture
def corpus(make_store):
    rng = np.random.default_rng(0)
    clips = [rng.standard_normal(n).astype(np.float32) for n in LENGTHS]
    labels = [rng.integers(1, 12, n // 2000) for n in LENGTHS]
    return make_store(clips, labels)


def ours(model: Wav2Vec2ForCTC, batch: dict) -> torch.Tensor:
    batch = dict(batch)
    samples = batch.pop("samples")
    with clip_wise_group_norm(model, samples):
        loss = TrainingLoss(model)(**batch)
        loss.backward()
    return loss.detach()


def hf(model: Wav2Vec2ForCTC, batch: dict) -> torch.Tensor:
    """HF's own forward on the same batch and masks (its feature masks drawn with `seed`, as ours)."""
    width = batch["input_values"].shape[1]
    mask = (torch.arange(width)[None, :] < batch["samples"][:, None]).long()
    with clip_wise_group_norm(model, batch["samples"]):
        loss = model(batch["input_values"], attention_mask=mask, labels=batch["labels"],
                     mask_time_indices=batch.get("time_mask")).loss
        loss.backward()
    return loss.detach()


def batch_of(model, store, seed=0) -> dict:
    rows = np.arange(len(store))
    batch = {**audio_batch(store, rows, model.config, multiple=4000), **label_batch([store.labels(i) for i in rows])}
    return {**batch, **spec_augment.draw(model.config, batch["frame_lengths"].numpy(), batch["frame_mask"].shape[1], seed)}


def gradients(model) -> dict[str, torch.Tensor]:
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def assert_same(loss, grads, expected_loss, expected_grads, tolerance=1e-5):
    torch.testing.assert_close(loss, expected_loss, rtol=0, atol=tolerance)
    assert grads.keys() == expected_grads.keys()
    for name, grad in expected_grads.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-4, atol=tolerance, msg=name)


TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=[16] * 7,
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)


@pytest.mark.parametrize("config", [
    {**TINY, "feat_extract_norm": "group", "do_stable_layer_norm": True, "mask_time_prob": 0.2},
    {**TINY, "feat_extract_norm": "layer", "do_stable_layer_norm": False, "mask_time_prob": 0.2},
    {**TINY, "feat_extract_norm": "group", "mask_time_prob": 0.0},
], ids=["group-stable", "layer-post-norm", "no-masks"])
def test_the_loss_and_gradients_are_hfs(corpus, config):
    model = network(config)
    batch = batch_of(model, corpus)
    assert ("time_mask" in batch) == (config["mask_time_prob"] > 0)
    expected = hf(model, batch), gradients(model)
    assert_same(ours(model, batch), gradients(model), *expected)


def test_layerdrop_drops_the_layers_hf_drops(corpus):
    model = network({**TINY, "num_hidden_layers": 6, "layerdrop": 0.5})
    batch = batch_of(model, corpus)
    results = []
    for compute in (hf, ours):
        torch.manual_seed(0)  # HF draws LayerDrop from torch's generator: the same draws, the same layers
        results.append((compute(model, batch), gradients(model)))
    assert_same(*results[1], *results[0])
    kept = {name.split(".")[3] for name in results[0][1] if ".layers." in name}
    assert 0 < len(kept) < 6  # some layers dropped, some kept: the test compares something


def test_feature_masks_are_hfs_given_the_same_seed(corpus):
    model = network({**TINY, "mask_time_prob": 0.0, "mask_feature_prob": 0.3, "mask_feature_length": 4})
    batch = batch_of(model, corpus, seed=11)
    assert batch["feature_mask"].any()
    with spec_augment.numpy_seeded(11):  # HF draws its feature masks in the forward, from numpy
        expected = hf(model, batch), gradients(model)
    assert_same(ours(model, batch), gradients(model), *expected)


def test_on_random_wav2vec2_base_weights(corpus):
    model = network({"mask_time_prob": 0.05})  # Wav2Vec2Config() is wav2vec2-base's architecture
    batch = batch_of(model, corpus)
    assert batch["time_mask"].any()
    expected = hf(model, batch), gradients(model)
    assert_same(ours(model, batch), gradients(model), *expected)


@pytest.mark.parametrize("budget", [None, 0], ids=["on-device", "memory-mapped"])
def test_cached_features_give_the_uncached_loss_and_gradients(corpus, budget):
    model = network({"mask_time_prob": 0.05}, freeze=True)  # wav2vec2-base, random weights
    rows = np.arange(len(corpus))
    cache = FeatureCache.compute(model, corpus, rows, None, multiple_samples=4000, budget=budget, batch_size=2)
    assert cache.on_device == (budget is None)
    uncached = batch_of(model, corpus)
    cached = {**cache.batch(rows), **label_batch([corpus.labels(i) for i in rows])}
    width = uncached["frame_mask"].shape[1]  # the cache rounds widths to its own multiple: 49 frames to 60
    assert cached["frame_mask"].shape[1] == 60 and cached["frame_mask"][:, :width].equal(uncached["frame_mask"])
    assert not cached["frame_mask"][:, width:].any()
    cached["time_mask"] = torch.nn.functional.pad(uncached["time_mask"], (0, 60 - width))
    if cache.on_device:
        cached["features"] = cache.take(cached.pop("frame_index"))
    expected = ours(model, uncached), gradients(model)
    loss = TrainingLoss(model)(**cached)
    loss.backward()
    assert_same(loss.detach(), gradients(model), *expected)
    cache.close()


class HostWaits(TorchDispatchMode):
    """Records the ops that make the host wait for a CUDA device: reading a value back, or
    indexing by a mask (its size depends on the mask's contents)."""

    READS = frozenset({"_local_scalar_dense", "nonzero", "masked_select", "is_nonzero"})

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.__name__.split(".")[0]
        flat = [a for x in args for a in (x if isinstance(x, (list, tuple)) else [x])]
        boolean_index = name.startswith("index") and any(
            isinstance(a, torch.Tensor) and a.dtype == torch.bool for a in flat[1:])
        if name in self.READS or boolean_index:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


def test_no_op_waits_for_the_device_where_hfs_forward_does(corpus):
    model = network({**TINY, "feat_extract_norm": "group", "mask_time_prob": 0.2})
    batch = batch_of(model, corpus)
    on_device = {k: v for k, v in batch.items() if k not in HOST_KEYS}
    with HostWaits() as waits:
        hf(model, on_device | {k: batch[k] for k in HOST_KEYS})
    assert {"masked_select", "_local_scalar_dense"} <= set(waits.seen)  # the detector sees HF's waits
    with HostWaits() as waits:
        ours(model, batch)
    assert waits.seen == []


@contextmanager
def sync_checks_off():
    saved = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("default")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode(saved)


class CTCExempt(torch.autograd.Function):
    """F.ctc_loss with CUDA's sync check off in its forward and backward. PyTorch's CUDA kernel
    copies the frame and label lengths to the GPU with blocking copies (`at::tensor(input_lengths,
    ...)` and `tg_batch_offsets.cuda()` in aten/src/ATen/native/cuda/LossCTC.cu): the one wait
    left in a step, after the forward pass has been queued whole."""

    @staticmethod
    def forward(ctx, log_probs, targets, frame_lengths, label_lengths, kwargs):
        with torch.enable_grad(), sync_checks_off():
            ctx.log_probs = log_probs.detach().requires_grad_()
            ctx.loss = CTC(ctx.log_probs, targets, frame_lengths, label_lengths, **kwargs)
        return ctx.loss.detach()

    @staticmethod
    def backward(ctx, grad):
        with sync_checks_off():
            return torch.autograd.grad(ctx.loss, ctx.log_probs, grad)[0], None, None, None, None


CTC = torch.nn.functional.ctc_loss


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_training_step_never_synchronizes_on_cuda_but_in_the_ctc_kernel(corpus, monkeypatch):
    from ctc_asr.core import params
    from ctc_asr.training import ctc_loss
    from ctc_asr.training.loader import PlannedBatches, loader
    from ctc_asr.training.loop import Trainer, prepare

    monkeypatch.setattr(ctc_loss.F, "ctc_loss", lambda *args, **kwargs: CTCExempt.apply(*args, kwargs))
    train = params.load().train.replace(precision="bf16", compile=False)
    model = network({**TINY, "feat_extract_norm": "group", "mask_time_prob": 0.2})
    prepare(model, train, torch.device("cuda"))
    trainer = Trainer(model, train, steps=10, device=torch.device("cuda"))
    planned = PlannedBatches(corpus, np.arange(len(corpus)), [np.arange(len(corpus))] * 3, model.config, multiple=4000)
    batches = iter(loader(planned, 0, pin_memory=True, seed=0))
    trainer.step(next(batches))  # first use: cuBLAS handles, cuDNN plans
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for batch in batches:
            trainer.step(batch)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()
