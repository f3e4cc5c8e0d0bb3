"""The training loop: AdamW with linear warmup and decay over length-bucketed, exactly padded batches.

Fused AdamW (on a CPU too: one kernel a tensor, not eight, so fewer wake-ups of OpenMP's threads). On a
GPU: mixed precision, batches built by data-loader workers, losses summed
on the device and read once per log step. Several processes through torchrun (see
distributed.py). Resumes from the last checkpoint when given one of the same settings.
"""

import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor, get_linear_schedule_with_warmup

from ctc_asr.core.params import AugmentParams, ModelParams, TrainParams
from ctc_asr.core.seeds import stream
from ctc_asr.data.store import Store
from ctc_asr.decoding.inference import greedy_texts
from ctc_asr.evaluation.scoring import score
from ctc_asr.network.batches import length_batches
from ctc_asr.network.exact_group_norm import clip_wise_group_norm
from ctc_asr.network.model import device as model_device
from ctc_asr.training import distributed, precision
from ctc_asr.training.augment import Augmenter, planned_lengths
from ctc_asr.training.checkpoint import Checkpoints, fingerprint, random_state, restore_random_state
from ctc_asr.training.ctc_loss import HOST_KEYS, TrainingLoss
from ctc_asr.training.feature_cache import FeatureCache
from ctc_asr.training.history import History
from ctc_asr.training.loader import PlannedBatches, loader

# Knobs that change how fast a run goes, not what it computes: a checkpoint stays valid across them.
RUNTIME_KNOBS = {"workers", "compile", "gpus", "checkpoint_every", "gradient_checkpointing"}


def kept_rows(store: Store, decisions: pd.DataFrame) -> np.ndarray:
    """Store positions of the training clips the filter kept (`decisions`: id, kept)."""
    return np.flatnonzero(store.index["id"].isin(decisions.loc[decisions["kept"], "id"]))


def dev_rows(store: Store, count: int, seed: int) -> np.ndarray:
    """A fixed random subset of `count` dev clips, in store order: what the history scores (never test)."""
    return np.sort(np.random.default_rng(stream(seed, "held_out")).permutation(store.rows("dev"))[:count])


def run_key(model: ModelParams, train: TrainParams, vocab_text: str, store: Store, train_rows: np.ndarray,
            eval_rows: np.ndarray, augment: AugmentParams | None = None) -> str:
    """The fingerprint of everything a run computes from: a checkpoint resumes only under the same key."""
    ids = store.index["id"]
    return fingerprint(
        model=model.model_dump(), train=train.model_dump(exclude=RUNTIME_KNOBS), vocab=vocab_text,
        augment=augment.model_dump() if augment else None,
        train_ids=ids.iloc[train_rows].tolist(), eval_ids=ids.iloc[eval_rows].tolist(),
        lengths=store.index["audio_length"].iloc[train_rows].tolist(),
    )


def plan_epochs(lengths: np.ndarray, cfg: TrainParams, sample_rate: int) -> list[tuple[float, np.ndarray]]:
    """Every batch of the run up front, as (epoch, rows): the schedule needs the step count."""
    rng = np.random.default_rng(stream(cfg.seed, "batches"))
    budget = int(cfg.batch_seconds * sample_rate)
    plan = []
    for epoch in range(math.ceil(cfg.epochs)):
        batches = length_batches(lengths, budget, rng)
        take = min(len(batches), round((cfg.epochs - epoch) * len(batches)))
        plan += [(epoch + (k + 1) / len(batches), b) for k, b in enumerate(batches[:take])]
    return plan


@dataclass
class DevMonitor:
    """WER/CER on a fixed subset of dev clips, for the history."""

    store: Store
    rows: np.ndarray
    processor: Wav2Vec2Processor

    def __call__(self, model: Wav2Vec2ForCTC) -> dict:
        clips = [self.store.audio(i) for i in self.rows]
        references = self.store.index["text"].to_numpy()[self.rows].tolist()
        totals, _ = score(references, greedy_texts(model, self.processor, clips))
        model.train()
        return {"wer": totals["wer"], "cer": totals["cer"]}


@dataclass
class Progress:
    """The counters of a run, saved in each checkpoint."""

    step: int = 0
    audio_seconds: float = 0.0
    seconds: float = 0.0
    skipped: int = 0
    recent_loss: float = float("nan")
    held_out: dict = field(default_factory=dict)
    window: tuple[float, float, int] = (0.0, 0.0, 0)  # see Window.saved
    logged: dict = field(default_factory=dict)  # the history's records so far (see History.records)


class Window:
    """The steps since the last log: their loss sum and update count stay on the device."""

    def __init__(self, device: torch.device, saved: tuple[float, float, int]):
        self.loss_sum, self.updates = (torch.tensor(x, device=device) for x in saved[:2])
        self.steps = saved[2]

    def add(self, loss: torch.Tensor, updated: torch.Tensor) -> None:
        self.loss_sum += torch.where(updated, loss, 0.0)
        self.updates += updated
        self.steps += 1

    def saved(self) -> tuple[float, float, int]:
        """(loss sum, updates, steps), the first two averaged over processes."""
        return (*distributed.mean_over_processes(torch.stack([self.loss_sum, self.updates])).tolist(), self.steps)

    def close(self) -> tuple[float, int]:
        """The mean loss of the updates made, and the number of steps skipped; then start afresh."""
        loss_sum, updates, steps = self.saved()
        self.loss_sum.zero_(), self.updates.zero_()
        self.steps = 0
        return (loss_sum / updates if updates else float("nan")), steps - int(updates)


def deterministic_algorithms() -> None:
    """PyTorch's deterministic kernels, and the settings cuBLAS and cuDNN need for them.

    On a CPU training is bitwise reproducible without this. On CUDA one op of ours has no
    deterministic kernel, the CTC loss's backward: it warns and stays as it is.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts: before any matmul
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def prepare(model: Wav2Vec2ForCTC, cfg: TrainParams, device: torch.device) -> None:
    model.to(device).train()
    if cfg.freeze_feature_encoder:
        model.freeze_feature_encoder()
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable({"use_reentrant": False})  # the re-entrant kind breaks DDP
    if not cfg.deterministic:
        torch.backends.cudnn.benchmark = True  # bucketed widths: few shapes, each planned once
    if cfg.compile:
        compile_regions(model)


def compile_regions(model: Wav2Vec2ForCTC) -> None:
    """torch.compile the feature projection and each transformer layer, each as one graph.

    Region by region, as PyTorch's regional compilation does for repeated blocks: a short
    warm-up, and LayerDrop's choice of layers stays a Python loop. fullgraph: a graph break is
    an error, not a silent fallback. The conv encoder stays eager: exact batching patches its first
    norm per batch (group_norm.py), and a frozen one is cached (feature_cache.py).
    The positional conv stays eager too: dynamo specialises its time dimension whatever
    `dynamic` says, so each padded width recompiled it until the recompile limit failed the run.
    """
    encoder = model.wav2vec2.encoder
    for region in (model.wav2vec2.feature_projection, *encoder.layers):
        region.compile(dynamic=True, fullgraph=True)


class Trainer:
    """One optimizer step at a time, on this process's share of each batch."""

    def __init__(self, model: Wav2Vec2ForCTC, cfg: TrainParams, steps: int, device: torch.device):
        self.model, self.cfg, self.device = model, cfg, device
        self.dtype = precision.autocast_dtype(cfg.precision, device)
        precision.prefer_attention_kernels(model, device, self.dtype)
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=cfg.weight_decay,
                                           fused=device.type in ("cuda", "cpu"))
        self.schedule = get_linear_schedule_with_warmup(self.optimizer, min(cfg.warmup_steps, steps), steps)
        self.scaler = precision.Scaler(device, self.dtype)
        self.cache: FeatureCache | None = None  # set by fit when the frozen encoder's features are cached
        self.wrapped, self.ranks = TrainingLoss(model), distributed.current()
        if self.ranks.world > 1:
            # Unused parameters: layers skipped by layerdrop, the mask embedding when nothing is masked.
            unused = model.config.layerdrop > 0 or model.config.mask_time_prob == 0
            self.wrapped = DistributedDataParallel(self.wrapped, find_unused_parameters=unused)

    def step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """One update; the batch's weighted loss and whether the update happened (both on device).

        Nothing here waits for the GPU: the lengths CTC reads stay on the host, the rest is copied
        without blocking (from pinned memory) and nothing is read back.
        """
        host = {k: batch.pop(k) for k in HOST_KEYS}
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        weight = distributed.loss_weight(batch.pop("share"), self.model.config.ctc_loss_reduction, self.ranks)
        if "frame_index" in batch:
            batch["features"] = self.cache.take(batch.pop("frame_index"))
        samples = batch.pop("samples", None)
        # backward inside: checkpointed conv layers recompute the forward with the clip-wise norm
        with clip_wise_group_norm(self.model, samples) if samples is not None else nullcontext():
            with precision.autocast(self.device, self.dtype):
                loss = self.wrapped(**batch, **host) * weight
            self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.max_grad_norm)
        self.scaler.step(self.optimizer)  # skipped on device when a gradient is inf or NaN
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.schedule.step()
        return loss.detach().float(), torch.isfinite(norm)

    def state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(), "scaler": self.scaler.state_dict()}

    def load(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])


def fit(model: Wav2Vec2ForCTC, store: Store, train_rows: np.ndarray, dev_monitor: DevMonitor | None,
        cfg: TrainParams, history: History | None = None, checkpoints: Checkpoints | None = None,
        augment: AugmentParams | None = None) -> dict:
    """Train in place; log loss and learning rate every `log_every` steps, WER every `eval_every`;
    the training clips augmented as `augment` says (augment.py; None or every kind off: as stored).

    Under torchrun only the lead process (`Ranks.main`) evaluates and reads and writes
    history and checkpoints: pass dev_monitor, history and checkpoints there (others may
    pass the same `checkpoints`; only the lead touches them).
    """
    ranks, device = distributed.current(), model_device()
    if cfg.deterministic:
        deterministic_algorithms()
    torch.manual_seed(stream(cfg.seed, "dropout"))
    prepare(model, cfg, device)
    lengths = store.index["audio_length"].to_numpy()[train_rows]
    plan = plan_epochs(planned_lengths(augment, lengths), cfg, store.sample_rate)
    trainer = Trainer(model, cfg, len(plan), device)
    run = resume(trainer, checkpoints, ranks)
    if history and run.step:
        history.restore(run.logged)
    multiple = max(1, round(cfg.pad_multiple_seconds * store.sample_rate))
    window = Window(device, run.window)
    started = time.perf_counter() - run.seconds  # the features' one-time cost counts in the run's time
    cache_seconds = 0.0
    augmenter = Augmenter.of(augment, store, train_rows, model.config, cfg.seed)  # simulated rooms count in the time
    if cfg.freeze_feature_encoder and not augmenter:  # an augmented clip differs each time: no features to keep
        begun = time.perf_counter()
        trainer.cache = FeatureCache.compute(model, store, train_rows, trainer.dtype, multiple, progress=ranks.main)
        cache_seconds = time.perf_counter() - begun
    batches = PlannedBatches(store, train_rows, [rows for _, rows in plan[run.step:]], model.config, ranks, multiple,
                             cfg.seed, run.step, trainer.cache, augmenter)
    progress = tqdm(loader(batches, cfg.workers, device.type == "cuda", cfg.seed), desc="train", unit="step",
                    initial=run.step, total=len(plan), disable=not ranks.main)
    for step, batch in enumerate(progress, start=run.step + 1):
        run.step = step
        epoch, positions = plan[run.step - 1]
        window.add(*trainer.step(batch))
        run.audio_seconds += lengths[positions].sum() / store.sample_rate
        last = run.step == len(plan)
        if run.step % cfg.log_every == 0 or last:
            run.recent_loss, skipped = window.close()
            run.skipped += skipped
            if history:
                history.log("steps", step=run.step, epoch=round(epoch, 3), loss=round(run.recent_loss, 4),
                            learning_rate=trainer.schedule.get_last_lr()[0])
            progress.set_postfix(loss=f"{run.recent_loss:.3f}", epoch=f"{epoch:.2f}")
        if dev_monitor and (run.step % cfg.eval_every == 0 or last):
            run.held_out = dev_monitor(model)
            if history:
                history.log("eval", step=run.step, epoch=round(epoch, 3), **run.held_out)
        # every process takes part, given `checkpoints` or not: the lead gathers their random generators
        if cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0 and not last:
            run.seconds = time.perf_counter() - started
            run.window = window.saved()
            run.logged = history.records if history else {}
            save(trainer, checkpoints, run, ranks)
    run.seconds = time.perf_counter() - started
    if trainer.cache:
        trainer.cache.close()
    return {
        "steps": len(plan), "epochs": cfg.epochs, "skipped_batches": run.skipped,
        "final_loss": round(run.recent_loss, 4) if math.isfinite(run.recent_loss) else None,
        "device": str(device), "precision": precision.name(trainer.dtype), "processes": ranks.world,
        **{f"eval_{k}": v for k, v in run.held_out.items()},
        # how long it took: apart, since it differs run to run where everything else must not
        "timing": {"train_seconds": round(run.seconds, 1), "feature_cache_seconds": round(cache_seconds, 2),
                   "audio_seconds_per_second": round(run.audio_seconds / run.seconds, 2)},
    }


def resume(trainer: Trainer, checkpoints: Checkpoints | None, ranks: distributed.Ranks) -> Progress:
    """The progress of the checkpoint, with weights, optimizer and random state restored; else a fresh start."""
    # The lead reads it and sends it: the other machines have none (the lead wrote it) or an old one.
    state = distributed.from_lead(checkpoints.load() if checkpoints and ranks.main else None)
    if state is None:
        return Progress()
    trainer.load(state["trainer"])
    randoms = state["random"]
    if len(randoms) == ranks.world:  # same number of processes: each gets its own generators back
        restore_random_state(randoms[ranks.rank])
    run = Progress(**state["progress"])
    if ranks.main:
        print(f"train: resuming at step {run.step} from {checkpoints.path}")
    return run


def save(trainer: Trainer, checkpoints: Checkpoints | None, run: Progress, ranks: distributed.Ranks) -> None:
    randoms = distributed.gather(random_state())
    if ranks.main and checkpoints:
        checkpoints.save({"trainer": trainer.state(), "random": randoms, "progress": asdict(run)})
