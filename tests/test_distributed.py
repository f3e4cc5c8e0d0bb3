import numpy as np
import pytest
import torch

from ctc_asr.core.errors import UserError
from ctc_asr.training import distributed
from ctc_asr.training.distributed import Ranks, loss_weight, shard


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


def test_several_machines_without_a_rendezvous_address_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("CTC_ASR_RENDEZVOUS", raising=False)
    with pytest.raises(UserError, match="CTC_ASR_RENDEZVOUS=host:port") as error:
        distributed.relaunch(1, "stages/train.py", nodes=2)
    assert "\n" not in str(error.value)


def test_several_machines_meet_at_the_rendezvous_address(monkeypatch):
    monkeypatch.setenv("CTC_ASR_RENDEZVOUS", "host1:29400")
    monkeypatch.delenv("CTC_ASR_RUN_ID", raising=False)
    command = distributed.torchrun_command(4, 2, "stages/train.py", ["--follow"])
    assert command[3:] == ["--nnodes=2", "--rdzv-backend=c10d", "--rdzv-endpoint=host1:29400", "--rdzv-id=ctc-asr",
                           "--nproc-per-node=4", "stages/train.py", "--follow"]
    assert "--standalone" in distributed.torchrun_command(4, 1, "stages/train.py", [])


def test_following_needs_several_machines():
    with pytest.raises(UserError, match=r"train\.nodes is 1"):
        distributed.relaunch(1, "stages/train.py", nodes=1, follow=True)


def test_the_lead_is_the_process_that_writes():
    assert Ranks(1, 2, lead=1).main and not Ranks(0, 2, lead=1).main
