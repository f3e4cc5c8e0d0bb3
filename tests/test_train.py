import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ctc_asr.core import params
from ctc_asr.core.params import TrainParams
from ctc_asr.network import model
from ctc_asr.network.model import device
from ctc_asr.training.history import History
from ctc_asr.training.loop import DevMonitor, fit, plan_epochs

TRAIN = params.load(Path(__file__).resolve().parents[1] / "params.yaml").train


def cfg(**changes) -> TrainParams:
    """params.yaml's train section with `changes`."""
    return TRAIN.replace(**{"seed": 0, **changes})


def test_each_whole_epoch_covers_every_position_once():
    lengths = np.random.default_rng(0).integers(500, 3000, 25)
    plan = plan_epochs(lengths, cfg(epochs=3, batch_seconds=6), sample_rate=1000)
    for epoch in range(3):
        rows = [b for e, b in plan if epoch < e <= epoch + 1]
        assert sorted(np.concatenate(rows).tolist()) == list(range(25))
    assert plan[-1][0] == pytest.approx(3.0)


def test_fractional_epochs_take_a_share_of_the_last_epoch():
    # 10 equal clips, 3 per batch: 4 batches (3, 3, 3, 1) every epoch.
    lengths = np.full(10, 1000)
    plan = plan_epochs(lengths, cfg(epochs=2.5, batch_seconds=3), sample_rate=1000)
    assert len(plan) == 4 + 4 + 2
    assert [round(e, 3) for e, _ in plan] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5]
    last = np.concatenate([b for e, b in plan[8:]])
    assert len(set(last.tolist())) == len(last)
    for _, batch in plan:
        assert len(batch) * 1000 <= 3000


def test_fractional_share_is_the_nearest_whole_number_of_batches():
    # 4 batches an epoch; 1.6 epochs is 4 + 2.4 batches, so 2 batches of the second epoch.
    plan = plan_epochs(np.full(10, 1000), cfg(epochs=1.6, batch_seconds=3), sample_rate=1000)
    assert len(plan) == 6
    assert plan[-1][0] == pytest.approx(1.5)


def test_less_than_one_epoch():
    plan = plan_epochs(np.full(10, 1000), cfg(epochs=0.3, batch_seconds=1), sample_rate=1000)
    assert len(plan) == 3
    assert [len(b) for _, b in plan] == [1, 1, 1]
    assert plan[-1][0] == pytest.approx(0.3)


def test_plan_is_seeded():
    lengths = np.random.default_rng(0).integers(500, 3000, 25)
    same = [b.tolist() for _, b in plan_epochs(lengths, cfg(epochs=2, batch_seconds=6, seed=1), 1000)]
    again = [b.tolist() for _, b in plan_epochs(lengths, cfg(epochs=2, batch_seconds=6, seed=1), 1000)]
    other = [b.tolist() for _, b in plan_epochs(lengths, cfg(epochs=2, batch_seconds=6, seed=2), 1000)]
    assert same == again and same != other


@pytest.fixture
def tiny_corpus(make_store, tokenizer):
    """Two training clips to overfit and one held-out clip, as encode would write them."""
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    texts = ["a cat", "dog", "the dog"]
    clips = [np.sin(2 * np.pi * 300 * t) + 0.1 * rng.standard_normal(8000),
             np.sign(np.sin(2 * np.pi * 90 * t)) + 0.1 * rng.standard_normal(8000),
             0.5 * rng.standard_normal(8000)]
    labels = [tokenizer(text).input_ids for text in texts]
    return make_store(clips, labels, ["train", "train", "test"], texts)


def test_fit_overfits_two_clips_and_writes_history(tmp_path, tiny_config, tokenizer, tiny_corpus):
    torch.manual_seed(0)
    network = model.build("scratch", tiny_config, {"ctc_loss_reduction": "mean", "ctc_zero_infinity": True},
                          tokenizer, seed=0)
    processor = model.processor(tokenizer, network.config, 16000)
    dev_monitor = DevMonitor(tiny_corpus, tiny_corpus.rows("test"), processor)
    history = History(tmp_path / "history", steps=["step", "epoch", "loss", "learning_rate"],
                      eval=["step", "epoch", "wer", "cer"])
    params = cfg(epochs=20, batch_seconds=1.0, learning_rate=5e-3, warmup_steps=2, log_every=4, eval_every=10)
    summary = fit(network, tiny_corpus, tiny_corpus.rows("train"), dev_monitor, params, history)
    history.close()

    assert summary["steps"] == 20 and summary["skipped_batches"] == 0
    assert torch.device(summary["device"]).type == device().type
    steps = pd.read_csv(tmp_path / "history" / "steps.tsv", sep="\t")
    evals = pd.read_csv(tmp_path / "history" / "eval.tsv", sep="\t")
    assert steps["step"].tolist() == [4, 8, 12, 16, 20]
    assert steps["epoch"].tolist() == pytest.approx([4, 8, 12, 16, 20])
    assert evals["step"].tolist() == [10, 20]
    assert evals[["wer", "cer"]].ge(0).all().all()
    assert steps["learning_rate"].iloc[-1] == pytest.approx(0, abs=1e-9)
    assert steps["loss"].iloc[-1] < 0.8 * steps["loss"].iloc[0]  # overfitting two clips
    assert summary["final_loss"] == pytest.approx(steps["loss"].iloc[-1], abs=1e-3)
    assert network.training  # the dev monitor hands the model back in training mode


def test_fit_logs_the_last_step_even_off_schedule(tmp_path, tiny_config, tokenizer, tiny_corpus):
    network = model.build("scratch", tiny_config, {"ctc_zero_infinity": True}, tokenizer, seed=0)
    processor = model.processor(tokenizer, network.config, 16000)
    history = History(tmp_path, steps=["step", "epoch", "loss", "learning_rate"], eval=["step", "epoch", "wer", "cer"])
    params = cfg(epochs=3, batch_seconds=0.5, log_every=100, eval_every=100, freeze_feature_encoder=True)
    frozen = [p.detach().clone() for p in network.wav2vec2.feature_extractor.parameters()]
    summary = fit(network, tiny_corpus, tiny_corpus.rows("train"), DevMonitor(tiny_corpus, tiny_corpus.rows("test"),
                  processor), params, history)
    history.close()
    # 0.5 s budget, 0.5 s clips: one clip a batch, two batches an epoch.
    assert summary["steps"] == 6
    assert pd.read_csv(tmp_path / "steps.tsv", sep="\t")["step"].tolist() == [6]
    assert pd.read_csv(tmp_path / "eval.tsv", sep="\t")["step"].tolist() == [6]
    for before, after in zip(frozen, network.wav2vec2.feature_extractor.parameters()):
        assert after.requires_grad is False
        assert after.detach().cpu().equal(before.cpu())
    assert math.isfinite(summary["final_loss"])


@pytest.mark.parametrize("norm", ["group", "layer"])
def test_a_padded_training_batch_gives_each_clip_its_own_loss(tiny_config, tokenizer, norm):
    from ctc_asr.network.batches import pad
    from ctc_asr.network.exact_group_norm import clip_wise_group_norm

    torch.manual_seed(0)
    network = model.build("scratch", {**tiny_config, "feat_extract_norm": norm}, {"ctc_loss_reduction": "mean"},
                          tokenizer, seed=0)
    rng = np.random.default_rng(0)
    clips = [rng.standard_normal(n).astype(np.float32) for n in (16000, 4000)]
    labels = [torch.tensor([[3, 4, 5]]), torch.tensor([[6, 7]])]
    alone = [network(**pad([c]), labels=y).loss for c, y in zip(clips, labels)]
    batch = pad(clips)
    padded_labels = torch.tensor([[3, 4, 5], [6, 7, -100]])
    with clip_wise_group_norm(network, batch["attention_mask"].sum(-1)):
        together = network(**batch, labels=padded_labels).loss
    # "mean" reduction: each clip's loss over its label length, averaged over the batch
    assert together.detach().item() == pytest.approx(torch.stack(alone).detach().mean().item(), abs=1e-5)


def tiny_fit(tmp_path, network, corpus, tokenizer, augment=None, **changes) -> dict:
    processor = model.processor(tokenizer, network.config, 16000)
    params = cfg(**{"epochs": 2, "batch_seconds": 1.0, "learning_rate": 5e-3, "warmup_steps": 1, "log_every": 1,
                    "eval_every": 100, "workers": 0, **changes})
    return fit(network, corpus, corpus.rows("train"), DevMonitor(corpus, corpus.rows("test"), processor), params,
               augment=augment)


def test_a_step_with_a_non_finite_gradient_is_skipped_and_counted(tmp_path, tiny_config, tokenizer, make_store):
    # 0.05 s of audio cannot carry 15 labels: with zero_infinity off the CTC loss is inf.
    rng = np.random.default_rng(0)
    labels = [tokenizer("hello world a cat").input_ids, tokenizer("a").input_ids]
    corpus = make_store([rng.standard_normal(800), rng.standard_normal(8000)], labels, ["train", "test"], ["x", "a"])
    network = model.build("scratch", tiny_config, {"ctc_zero_infinity": False}, tokenizer, seed=0)
    before = {k: v.clone() for k, v in network.state_dict().items()}
    summary = tiny_fit(tmp_path, network, corpus, tokenizer, epochs=3)
    assert summary["skipped_batches"] == 3 and summary["final_loss"] is None
    for name, value in network.state_dict().items():
        assert torch.equal(value, before[name]), name


@pytest.mark.parametrize("changes", [{"gradient_checkpointing": True}, {"workers": 2}, {"compile": True}],
                         ids=["gradient_checkpointing", "workers", "compile"])
def test_speed_options_train_the_same_weights(tmp_path, tiny_config, tokenizer, tiny_corpus, changes):
    results = []  # in fp32: bf16 rounds a compiled graph's fused ops otherwise than eager ones
    for settings in ({"precision": "fp32"}, {"precision": "fp32", **changes}):
        torch.manual_seed(0)
        network = model.build("scratch", {**tiny_config, "feat_extract_norm": "group"}, {"ctc_zero_infinity": True},
                              tokenizer, seed=0)
        summary = tiny_fit(tmp_path, network, tiny_corpus, tokenizer, **settings)
        results.append((summary, network.state_dict()))
    (plain, plain_weights), (fast, fast_weights) = results
    assert fast["final_loss"] == pytest.approx(plain["final_loss"], abs=1e-4)
    for name, value in plain_weights.items():
        torch.testing.assert_close(fast_weights[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_bf16_autocast_trains_on_cpu_when_asked(tmp_path, tiny_config, tokenizer, tiny_corpus):
    network = model.build("scratch", {**tiny_config, "feat_extract_norm": "group"}, {"ctc_zero_infinity": True},
                          tokenizer, seed=0)
    summary = tiny_fit(tmp_path, network, tiny_corpus, tokenizer, precision="bf16")
    assert summary["precision"] == "bf16" and math.isfinite(summary["final_loss"])
    assert all(p.dtype == torch.float32 for p in network.parameters())  # autocast: weights stay fp32


def test_a_frozen_encoder_trains_the_same_from_a_device_cache_or_a_file_read_by_workers(
        tmp_path, tiny_config, tokenizer, tiny_corpus, monkeypatch, capsys):
    from ctc_asr.training import feature_cache

    results, caches = [], []
    compute = feature_cache.FeatureCache.compute
    monkeypatch.setattr(feature_cache.FeatureCache, "compute",
                        lambda *args, **kwargs: caches.append(compute(*args, **kwargs)) or caches[-1])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # free 0 bytes: the features go to a memory-mapped file; and with no room for that either,
    # the encoder runs each step
    for workers, free, disk in ((0, None, None), (2, 0, None), (0, 0, 0)):
        if free is not None:
            monkeypatch.setattr(feature_cache, "free_bytes", lambda device, free=free: free)
        if disk is not None:
            monkeypatch.setattr(feature_cache.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0))
        network = model.build("scratch", {**tiny_config, "feat_extract_norm": "group", "mask_time_prob": 0.3},
                              {"ctc_zero_infinity": True}, tokenizer, seed=0)
        summary = tiny_fit(tmp_path, network, tiny_corpus, tokenizer, freeze_feature_encoder=True, workers=workers)
        results.append((summary, network.state_dict()))
    (device, device_weights), (file, file_weights), (uncached, uncached_weights) = results
    assert [cache and cache.on_device for cache in caches] == [True, False, None]
    assert not list(tmp_path.glob("ctc_asr-features-*"))  # every file removed
    assert "features need" in capsys.readouterr().out  # the fallback says so, naming $TMPDIR
    assert uncached["final_loss"] == pytest.approx(device["final_loss"], abs=1e-6)
    assert "feature_cache_seconds" in file["timing"]
    assert file["final_loss"] == pytest.approx(device["final_loss"], abs=1e-6)
    for name, value in device_weights.items():
        torch.testing.assert_close(file_weights[name], value, rtol=0, atol=1e-6, msg=name)
        torch.testing.assert_close(uncached_weights[name], value, rtol=0, atol=1e-6, msg=name)


def test_feature_files_of_dead_runs_are_removed_and_a_live_runs_kept(tmp_path, monkeypatch):
    from ctc_asr.training import feature_cache

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for pid in (int(dead.stdout), os.getpid()):
        (tmp_path / f"ctc_asr-features-{pid}-x").mkdir()
    feature_cache.remove_dead_runs_files()
    assert [p.name for p in tmp_path.iterdir()] == [f"ctc_asr-features-{os.getpid()}-x"]


def every_kind(augment, probability: float):
    """params.yaml's augment section with every kind on, for `probability` of the clips."""
    from ctc_asr.training.augment import KINDS

    return augment.replace(**{kind: getattr(augment, kind).replace(enabled=True, probability=probability).model_dump()
                              for kind in KINDS})


def trained(tmp_path, tiny_config, tokenizer, corpus, augment, **changes):
    network = model.build("scratch", {**tiny_config, "feat_extract_norm": "group"}, {"ctc_zero_infinity": True},
                          tokenizer, seed=0)
    summary = tiny_fit(tmp_path, network, corpus, tokenizer, augment, **{"epochs": 4, "batch_seconds": 0.6, **changes})
    return summary, network.state_dict()


def test_augmentation_off_trains_the_weights_of_a_run_without_it(tmp_path, tiny_config, tokenizer, tiny_corpus, defaults):
    (plain, plain_weights), (off, off_weights) = (trained(tmp_path, tiny_config, tokenizer, tiny_corpus, augment)
                                                  for augment in (None, defaults.augment))
    assert off["steps"] == plain["steps"] and off["final_loss"] == plain["final_loss"]
    for name, value in plain_weights.items():
        assert torch.equal(off_weights[name], value), name


def test_augmented_training_is_the_same_for_any_worker_count(tmp_path, tiny_config, tokenizer, tiny_corpus, defaults):
    augment = every_kind(defaults.augment, 0.6)
    (one, one_weights), (two, two_weights) = (trained(tmp_path, tiny_config, tokenizer, tiny_corpus, augment, workers=w)
                                              for w in (0, 2))
    _, plain_weights = trained(tmp_path, tiny_config, tokenizer, tiny_corpus, None)
    assert one["steps"] == two["steps"] and math.isfinite(one["final_loss"]) and one["final_loss"] == two["final_loss"]
    for name, value in one_weights.items():
        assert torch.equal(two_weights[name], value), name
    assert not all(torch.equal(plain_weights[name], value) for name, value in one_weights.items())  # it did augment


def test_slower_speeds_plan_smaller_batches(tmp_path, tiny_config, tokenizer, tiny_corpus, defaults):
    # 0.5 s clips, 1.1 s batches: two clips a batch as stored, one when either may be slowed to 0.56 s
    slowed = defaults.augment.replace(speed=defaults.augment.speed.replace(enabled=True, factors=[0.9]).model_dump())
    steps = [trained(tmp_path, tiny_config, tokenizer, tiny_corpus, augment, batch_seconds=1.1)[0]["steps"]
             for augment in (None, slowed)]
    assert steps == [4, 8]


def test_a_frozen_encoder_with_augmentation_computes_its_features_each_step(
        tmp_path, tiny_config, tokenizer, tiny_corpus, defaults, monkeypatch):
    from ctc_asr.training import feature_cache

    def refuse(*args, **kwargs):
        raise AssertionError("augmented clips differ each epoch: no features may be cached")

    monkeypatch.setattr(feature_cache.FeatureCache, "compute", refuse)
    summary, _ = trained(tmp_path, tiny_config, tokenizer, tiny_corpus, every_kind(defaults.augment, 0.5),
                         freeze_feature_encoder=True)
    assert math.isfinite(summary["final_loss"]) and summary["timing"]["feature_cache_seconds"] == 0
