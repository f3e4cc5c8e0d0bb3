"""Batched CTC inference that is exact (see `group_norm`): a clip's logits don't depend on its batch."""

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr.network.batches import pad
from ctc_asr.network.exact_group_norm import clip_wise_group_norm
from ctc_asr.network.geometry import output_frames


def per_clip(model: Wav2Vec2ForCTC, clips: Sequence[np.ndarray], forward: Callable[[dict], torch.Tensor],
             batch_size: int = 16, progress: bool = False, desc: str = "transcribe") -> Iterator[tuple[int, torch.Tensor]]:
    """(i, output) for each clip i that gives at least one frame, `forward` run on exact batches.

    Clips are batched by similar length; `forward` gets a padded batch on the model's device and
    returns (batch, frames, ...); each clip's output is cut to its own frames.
    """
    device = next(model.parameters()).device
    sizes = np.array([len(c) for c in clips], dtype=np.int64)
    counts = output_frames(model.config, sizes)
    order = [i for i in np.argsort(sizes, kind="stable") if counts[i] > 0]
    for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", disable=not progress):
        rows = order[start:start + batch_size]
        batch = pad([np.asarray(clips[i]) for i in rows])
        with clip_wise_group_norm(model, batch["attention_mask"].sum(-1)):
            out = forward({k: v.to(device) for k, v in batch.items()})
        for k, i in enumerate(rows):
            yield i, out[k, :counts[i]]


@torch.inference_mode()
def logits(model: Wav2Vec2ForCTC, clips: Sequence[np.ndarray], batch_size: int = 16,
           progress: bool = False) -> list[torch.Tensor]:
    """(frames, vocab) float32 logits on the CPU for each clip (at the model's rate), in input order;
    a clip too short for one frame gets none."""
    model.eval()
    out = [torch.zeros(0, model.config.vocab_size) for _ in clips]
    for i, scores in per_clip(model, clips, lambda batch: model(**batch).logits.float().cpu(), batch_size, progress):
        out[i] = scores
    return out


def greedy_texts(model: Wav2Vec2ForCTC, processor: Wav2Vec2Processor, clips: Sequence[np.ndarray],
                 batch_size: int = 16, progress: bool = False) -> list[str]:
    """Greedy CTC text for each clip, in order."""
    return [greedy_text(processor, s) for s in logits(model, clips, batch_size, progress)]


def greedy_text(processor: Wav2Vec2Processor, scores: torch.Tensor) -> str:
    return single_spaced(processor.tokenizer.decode(scores.argmax(-1).tolist()))  # greedy even with an LM processor


def single_spaced(text: str) -> str:
    # Two word delimiters with a blank between them decode to two spaces: keep one.
    return " ".join(text.split())
