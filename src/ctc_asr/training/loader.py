"""The batches of a training run, built ahead by data-loader workers."""

from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import Wav2Vec2Config

from ctc_asr.core.seeds import stream
from ctc_asr.data.store import Store
from ctc_asr.network.batches import clip_batch, label_batch
from ctc_asr.training import spec_augment
from ctc_asr.training.augment import Augmenter
from ctc_asr.training.distributed import Ranks, shard
from ctc_asr.training.feature_cache import FeatureCache


@dataclass
class PlannedBatches(torch.utils.data.Dataset):
    """The k-th planned batch, this process's share of it, ready for `TrainingLoss`: what data-loader workers build.

    `plan[k]` holds positions in `rows` (the store rows trained on). A batch has audio, or the
    clips' conv features when there is a `cache` (computed for `rows`), their labels, and the
    SpecAugment masks of step `first_step + k` (spec_augment.py); with an `augmenter` (never
    with a cache), the clips as it changed them, drawn from the step's own stream (augment.py).
    Widths are rounded up to a multiple of `multiple` samples: with few distinct batch shapes,
    cuDNN and torch.compile reuse what they worked out for a shape (exact padding keeps the
    results the same).
    """

    store: Store
    rows: np.ndarray
    plan: list[np.ndarray]
    config: Wav2Vec2Config
    ranks: Ranks = field(default_factory=Ranks)
    multiple: int = 1
    seed: int = 0
    first_step: int = 0
    cache: FeatureCache | None = None
    augmenter: Augmenter | None = None

    def __len__(self) -> int:
        return len(self.plan)

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        positions, share = shard(self.plan[k], self.ranks)
        rows = self.rows[positions]
        step = self.first_step + k
        batch = self.cache.batch(positions) if self.cache else clip_batch(self.clips(rows, step), self.config, self.multiple)
        batch.update(label_batch([self.store.labels(i) for i in rows]))
        masks_seed = stream(self.seed, "masks", step, self.ranks.rank)
        batch.update(spec_augment.draw(self.config, batch["frame_lengths"].numpy(), batch["frame_mask"].shape[1],
                                       masks_seed))
        return {**batch, "share": torch.tensor(share)}

    def clips(self, rows: np.ndarray, step: int) -> list[np.ndarray]:
        """The clips of store rows `rows`: as stored, or augmented with the draws of `step`."""
        if self.augmenter is None:
            return [self.store.audio(i) for i in rows]
        return self.augmenter.batch(rows, stream(self.seed, "augment", step, self.ranks.rank))


def loader(batches: PlannedBatches, workers: int, pin_memory: bool, seed: int) -> torch.utils.data.DataLoader:
    """Batches in plan order, built `workers` processes ahead of the training loop.

    A batch's random draws (its SpecAugment masks, its augmentation) come from a seed of its own, so the batches
    are the same for any number of workers; the workers' own generators are seeded from `seed` all the same."""
    return torch.utils.data.DataLoader(
        batches, batch_size=None, shuffle=False, num_workers=workers, pin_memory=pin_memory,
        prefetch_factor=4 if workers else None,
        # its own generator, so that starting the loader leaves the global random state alone
        generator=torch.Generator().manual_seed(stream(seed, "loader")),
    )
