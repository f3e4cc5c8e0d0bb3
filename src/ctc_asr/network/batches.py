"""Batches sized by padded audio seconds, from length-sorted buckets, collated with numpy."""

import numpy as np
import torch
from transformers import Wav2Vec2Config

from ctc_asr.data.pcm import as_float
from ctc_asr.data.store import Store
from ctc_asr.network.geometry import output_frames


def length_batches(lengths: np.ndarray, max_padded: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Split positions 0..len(lengths)-1 into batches of similar length.

    Items are sorted by length jittered by +-10 % (so batches differ between epochs), then
    packed while `items x longest` stays within `max_padded` samples; batch order is shuffled.
    A clip longer than the budget gets a batch of its own.
    """
    lengths = np.asarray(lengths)
    order = np.argsort(lengths * rng.uniform(0.9, 1.1, len(lengths)), kind="stable")
    batches, start, longest = [], 0, 0
    for end, i in enumerate(order):
        longest = max(longest, lengths[i])
        if end > start and (end - start + 1) * longest > max_padded:
            batches.append(order[start:end])
            start, longest = end, lengths[i]
    if len(order):
        batches.append(order[start:])
    return [batches[i] for i in rng.permutation(len(batches))]


def standardize(samples: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance over the clip's own samples, as Wav2Vec2FeatureExtractor does."""
    samples = as_float(samples)
    return (samples - samples.mean()) / np.sqrt(samples.var() + 1e-7)


def pad(clips: list[np.ndarray], multiple: int = 1) -> dict[str, torch.Tensor]:
    """Each clip standardised on its own samples, then zero-padded to a multiple of `multiple`
    samples past the longest; the mask marks real samples."""
    width = -(-max(len(c) for c in clips) // multiple) * multiple
    inputs = np.zeros((len(clips), width), np.float32)
    mask = np.zeros((len(clips), width), np.int64)
    for k, clip in enumerate(clips):
        inputs[k, :len(clip)] = standardize(clip)
        mask[k, :len(clip)] = 1
    return {"input_values": torch.from_numpy(inputs), "attention_mask": torch.from_numpy(mask)}


def frame_batch(frame_lengths: np.ndarray, width: int) -> dict[str, torch.Tensor]:
    """`frame_mask` (True on each clip's frames) and `frame_lengths` of a batch `width` frames wide."""
    frame_lengths = np.asarray(frame_lengths, np.int64)
    return {"frame_mask": torch.from_numpy(np.arange(width)[None, :] < frame_lengths[:, None]),
            "frame_lengths": torch.from_numpy(frame_lengths)}


def label_batch(labels: list[np.ndarray]) -> dict[str, torch.Tensor]:
    """`labels` padded with -100, and `label_lengths`."""
    lengths = np.array([len(x) for x in labels], np.int64)
    padded = np.full((len(labels), max(lengths.max(), 1)), -100, np.int64)
    for k, label in enumerate(labels):
        padded[k, :len(label)] = label
    return {"labels": torch.from_numpy(padded), "label_lengths": torch.from_numpy(lengths)}


def audio_batch(store: Store, rows: np.ndarray, config: Wav2Vec2Config, multiple: int = 1) -> dict[str, torch.Tensor]:
    """`clip_batch` of the store's `rows`."""
    return clip_batch([store.audio(i) for i in rows], config, multiple)


def clip_batch(clips: list[np.ndarray], config: Wav2Vec2Config, multiple: int = 1) -> dict[str, torch.Tensor]:
    """`input_values` (see `pad`), `samples` (each clip's count) and the frames they give (see `frame_batch`)."""
    batch = pad(clips, multiple)
    samples = batch.pop("attention_mask").sum(-1)
    width = int(output_frames(config, batch["input_values"].shape[1]))
    return {**batch, "samples": samples, **frame_batch(output_frames(config, samples.numpy()), width)}
