"""Greedy CTC transcription with a model and processor as saved by the train stage."""

from collections.abc import Sequence

import numpy as np
import torch
from tqdm import tqdm
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor


def batch_size_for(processor: Wav2Vec2Processor, batch_size: int) -> int:
    # Without an attention mask, zero padding changes a group-norm model's output:
    # only one clip at a time is exact.
    return batch_size if processor.feature_extractor.return_attention_mask else 1


@torch.inference_mode()
def transcribe(model: Wav2Vec2ForCTC, processor: Wav2Vec2Processor, clips: Sequence[np.ndarray], batch_size: int = 16,
               progress: bool = False) -> list[str]:
    """Text for each 16 kHz clip, in order. Clips are batched by similar length."""
    model.eval()
    device = next(model.parameters()).device
    step = batch_size_for(processor, batch_size)
    order = np.argsort([len(c) for c in clips], kind="stable")
    texts = [""] * len(clips)
    for start in tqdm(range(0, len(order), step), desc="transcribe", unit="batch", disable=not progress):
        rows = order[start:start + step]
        inputs = processor(
            [np.asarray(clips[i]) for i in rows], sampling_rate=processor.feature_extractor.sampling_rate,
            padding=True, return_tensors="pt",
        ).to(device)
        ids = model(**inputs).logits.argmax(dim=-1)
        if "attention_mask" in inputs:
            # Frames computed from padding are not speech: blank them before decoding.
            valid = model._get_feat_extract_output_lengths(inputs["attention_mask"].sum(-1))
            ids[torch.arange(ids.shape[1], device=ids.device)[None, :] >= valid[:, None]] = processor.tokenizer.pad_token_id
        for i, text in zip(rows, processor.batch_decode(ids)):
            texts[i] = text
    return texts
