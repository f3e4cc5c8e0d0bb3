import numpy as np
import pytest
import torch

from ctc_asr.distributed import Ranks, loss_weight, shard


def test_shards_cover_the_batch_once():
    rows = np.arange(10, 17)
    parts = [shard(rows, Ranks(r, 3)) for r in range(3)]
    assert sorted(np.concatenate([p for p, _ in parts]).tolist()) == rows.tolist()
    assert sum(share for _, share in parts) == pytest.approx(1.0)


def test_a_process_without_clips_runs_one_at_share_zero():
    rows, share = shard(np.array([5]), Ranks(1, 2))
    assert rows.tolist() == [5] and share == 0.0


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_weighted_losses_average_to_the_whole_batch_loss(reduction):
    losses = torch.rand(5)  # per-clip losses of one batch, split over 2 processes
    ranks = [Ranks(r, 2) for r in range(2)]
    parts = [shard(np.arange(5), r) for r in ranks]
    reduce = torch.mean if reduction == "mean" else torch.sum
    weighted = [reduce(losses[rows]) * loss_weight(torch.tensor(share), reduction, r)
                for (rows, share), r in zip(parts, ranks)]
    assert (sum(weighted) / 2).item() == pytest.approx(reduce(losses).item())  # DDP's average
