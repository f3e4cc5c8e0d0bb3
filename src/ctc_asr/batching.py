"""Batches sized by padded audio seconds, from length-sorted buckets, collated with numpy."""

import numpy as np
import torch

from .distributed import Ranks, shard
from .pcm import as_float
from .seeds import stream
from .store import Store


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


def collate(store: Store, rows: np.ndarray, with_labels: bool = True, multiple: int = 1) -> dict[str, torch.Tensor]:
    """Pad a batch (see `pad`); labels padded with -100."""
    batch = pad([store.audio(i) for i in rows], multiple)
    if with_labels:
        labels = [store.labels(i) for i in rows]
        padded = np.full((len(labels), max(len(x) for x in labels)), -100, np.int64)
        for k, label in enumerate(labels):
            padded[k, :len(label)] = label
        batch["labels"] = torch.from_numpy(padded)
    return batch


class PlannedBatches(torch.utils.data.Dataset):
    """The k-th planned batch, this process's share of it, collated: what data-loader workers build.

    Widths are rounded up to a multiple of `multiple` samples: with few distinct batch shapes,
    cuDNN and torch.compile reuse what they worked out for a shape (exact padding keeps
    the results the same).
    """

    def __init__(self, store: Store, rows: np.ndarray, plan: list[np.ndarray], ranks: Ranks, multiple: int = 1):
        self.store, self.rows, self.plan, self.ranks, self.multiple = store, rows, plan, ranks, multiple

    def __len__(self) -> int:
        return len(self.plan)

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        mine, share = shard(self.rows[self.plan[k]], self.ranks)
        return {**collate(self.store, mine, multiple=self.multiple), "share": torch.tensor(share)}


def loader(batches: PlannedBatches, workers: int, pin_memory: bool, seed: int) -> torch.utils.data.DataLoader:
    """Batches in plan order, built `workers` processes ahead of the training loop.

    Building a batch draws nothing at random, so the batches are the same for any number of
    workers; the workers' own generators are seeded from `seed` all the same."""
    return torch.utils.data.DataLoader(
        batches, batch_size=None, shuffle=False, num_workers=workers, pin_memory=pin_memory,
        prefetch_factor=4 if workers else None,
        # its own generator, so that starting the loader leaves the global random state alone
        generator=torch.Generator().manual_seed(stream(seed, "loader")),
    )
