"""The training loop: AdamW with linear warmup and decay over length-bucketed, exactly padded batches."""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor, get_linear_schedule_with_warmup

from .batching import collate, length_batches
from .history import History
from .model import device
from .padding import clip_wise_group_norm
from .params import TrainParams
from .scoring import score
from .store import Store
from .transcribe import transcribe


def plan_epochs(lengths: np.ndarray, cfg: TrainParams, sample_rate: int) -> list[tuple[float, np.ndarray]]:
    """Every batch of the run up front, as (epoch, rows): the schedule needs the step count."""
    rng = np.random.default_rng(cfg.seed)
    budget = int(cfg.batch_seconds * sample_rate)
    plan = []
    for epoch in range(math.ceil(cfg.epochs)):
        batches = length_batches(lengths, budget, rng)
        take = min(len(batches), round((cfg.epochs - epoch) * len(batches)))
        plan += [(epoch + (k + 1) / len(batches), b) for k, b in enumerate(batches[:take])]
    return plan


@dataclass
class Evaluator:
    """WER/CER on a fixed subset of held-out clips, for the history."""

    store: Store
    rows: np.ndarray
    processor: Wav2Vec2Processor

    def __call__(self, model: Wav2Vec2ForCTC) -> dict:
        clips = [self.store.audio(i) for i in self.rows]
        references = self.store.index["text"].to_numpy()[self.rows].tolist()
        totals, _ = score(references, transcribe(model, self.processor, clips))
        model.train()
        return {"wer": totals["wer"], "cer": totals["cer"]}


def fit(model: Wav2Vec2ForCTC, store: Store, train_rows: np.ndarray, evaluator: Evaluator,
        cfg: TrainParams, history: History) -> dict:
    """Train in place; log loss and learning rate every `log_every` steps, WER every `eval_every`."""
    torch.manual_seed(cfg.seed)
    model.to(device()).train()
    if cfg.freeze_feature_encoder:
        model.freeze_feature_encoder()
    lengths = store.index["audio_length"].to_numpy()[train_rows]
    plan = plan_epochs(lengths, cfg, store.sample_rate)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )
    schedule = get_linear_schedule_with_warmup(optimizer, min(cfg.warmup_steps, len(plan)), len(plan))
    started, audio_seconds, losses, skipped, held_out = time.perf_counter(), 0.0, [], 0, {}
    progress = tqdm(plan, desc="train", unit="step")
    for step, (epoch, batch_positions) in enumerate(progress, start=1):
        batch = collate(store, train_rows[batch_positions])
        with clip_wise_group_norm(model, batch["attention_mask"].sum(-1)):
            loss = model(**{k: v.to(model.device) for k, v in batch.items()}).loss
        if torch.isfinite(loss):
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            losses.append(loss.item())
        else:
            skipped += 1  # a batch CTC cannot align must not put NaN into the weights
        optimizer.zero_grad(set_to_none=True)
        schedule.step()
        audio_seconds += lengths[batch_positions].sum() / store.sample_rate
        if step % cfg.log_every == 0 or step == len(plan):
            recent = float(np.mean(losses[-cfg.log_every:])) if losses else float("nan")
            history.log("steps", step=step, epoch=round(epoch, 3), loss=round(recent, 4),
                        learning_rate=schedule.get_last_lr()[0])
            progress.set_postfix(loss=f"{recent:.3f}", epoch=f"{epoch:.2f}")
        if step % cfg.eval_every == 0 or step == len(plan):
            held_out = evaluator(model)
            history.log("eval", step=step, epoch=round(epoch, 3), **held_out)
    elapsed = time.perf_counter() - started
    return {
        "steps": len(plan), "epochs": cfg.epochs, "skipped_batches": skipped,
        "final_loss": round(float(np.mean(losses[-cfg.log_every:])), 4) if losses else None,
        "train_seconds": round(elapsed, 1), "audio_seconds_per_second": round(audio_seconds / elapsed, 2),
        "device": str(model.device), **{f"eval_{k}": v for k, v in held_out.items()},
    }
