"""Several processes through torchrun (DDP): launching, joining, and splitting each batch.

One process per GPU (gloo processes on a machine without one). Every process plans the
same batches; each takes every world-th clip of each batch, so the global batch, and with
it the result, is the same for any number of processes (and of machines).

On several machines (train.nodes > 1) every machine launches torchrun, which meet through
c10d rendezvous at $CTC_ASR_RENDEZVOUS. One launch leads: the one `dvc repro` ran, whose
outputs DVC records; the others follow (`stages/train.py --follow`) and write nothing.
"""

import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from ctc_asr.core.errors import UserError

RENDEZVOUS, RUN_ID = "CTC_ASR_RENDEZVOUS", "CTC_ASR_RUN_ID"  # environment, not params: see torchrun_command
LEAD = "CTC_ASR_LEAD"  # "1" on the processes of the leading launch (see lead_rank)
_lead = 0  # the lead's global rank, agreed on in join


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    lead: int = 0  # the process that evaluates and writes every output

    @property
    def main(self) -> bool:
        return self.rank == self.lead


def launched() -> bool:
    """True inside a process that torchrun started."""
    return "LOCAL_RANK" in os.environ


def relaunch(processes: int, script: str, nodes: int = 1, follow: bool = False) -> int:
    """Run `script` (with this process's arguments) under torchrun, `processes` processes on
    this machine, one of `nodes`; its exit code. A launch without `follow` leads."""
    if follow and nodes == 1:
        raise UserError("--follow joins a run on several machines, and train.nodes is 1")
    if torch.cuda.is_available() and processes > torch.cuda.device_count():
        raise UserError(f"train.gpus: {processes} asked for, {torch.cuda.device_count()} visible")
    command = torchrun_command(processes, nodes, script, sys.argv[1:])
    # The mark is set or removed, never inherited: a follower started from a lead's shell must not lead.
    env = {k: v for k, v in os.environ.items() if k != LEAD} | ({} if follow else {LEAD: "1"})
    return subprocess.run(command, env=env).returncode


def torchrun_command(processes: int, nodes: int, script: str, args: list[str]) -> list[str]:
    """torchrun alone on this machine, or meeting the other machines at $CTC_ASR_RENDEZVOUS.

    The address comes from the environment: it changes with every cluster allocation, and
    as a param it would make DVC think train's params changed.
    """
    where = ["--standalone"]
    if nodes > 1:
        endpoint = os.environ.get(RENDEZVOUS)
        if not endpoint:
            raise UserError(f"train.nodes: {nodes} machines meet at {RENDEZVOUS}=host:port, "
                            "the first machine's address; it is not set (see docs/gpus.md)")
        where = [f"--nnodes={nodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}",
                 f"--rdzv-id={os.environ.get(RUN_ID) or 'ctc-asr'}"]
    return [sys.executable, "-m", "torch.distributed.run", *where, f"--nproc-per-node={processes}", script, *args]


def join() -> Ranks:
    """Join torchrun's process group (NCCL on GPUs, gloo on CPUs); one process: nothing to join."""
    global _lead
    if not launched():
        return Ranks()
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        _lead = lead_rank()
    return current()


def lead_rank() -> int:
    """The global rank of the leading launch's first process, the same in every process.

    c10d ranks the machines by sorting their agents' descriptors, so the machine that ran
    the stage (where DVC records the outputs) need not get rank 0. Nobody marked (torchrun
    started by hand): rank 0.
    """
    world = dist.get_world_size()
    marked = os.environ.get(LEAD) == "1" and os.environ.get("LOCAL_RANK") == "0"
    device = "cuda" if dist.get_backend() == "nccl" else "cpu"  # NCCL reduces CUDA tensors only
    lowest = torch.tensor(dist.get_rank() if marked else world, device=device)
    dist.all_reduce(lowest, op=dist.ReduceOp.MIN)
    lead = int(lowest.item())
    return 0 if lead == world else lead


def current() -> Ranks:
    return Ranks(dist.get_rank(), dist.get_world_size(), _lead) if dist.is_initialized() else Ranks()


def shard(rows: np.ndarray, ranks: Ranks) -> tuple[np.ndarray, float]:
    """This process's clips of a batch and their share of it.

    A process left without a clip runs the first one at share 0, so that every process
    takes part in every gradient exchange (see `loss_weight`).
    """
    mine = rows[ranks.rank::ranks.world]
    if len(mine) == 0:
        return rows[:1], 0.0
    return mine, len(mine) / len(rows)


def loss_weight(share: torch.Tensor, reduction: str, ranks: Ranks) -> torch.Tensor:
    """What this process's loss is multiplied by, so that DDP's average of the processes'
    gradients is the gradient of the whole batch's loss: a mean counts by its share of the
    batch, a sum counts whole (and a process without clips not at all)."""
    part = share if reduction == "mean" else (share > 0).to(share.dtype)
    return part * ranks.world


def mean_over_processes(value: torch.Tensor) -> torch.Tensor:
    if dist.is_initialized():
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return value


def gather(value: object) -> list:
    """Every process's `value`, in rank order, on the lead (others get their own in a list)."""
    if not dist.is_initialized():
        return [value]
    ranks = current()
    gathered = [None] * ranks.world if ranks.main else None
    dist.gather_object(value, gathered, dst=ranks.lead)
    return gathered if gathered is not None else [value]


def from_lead(value: object) -> object:
    """The lead's `value`, in every process (what the others pass is ignored)."""
    if not dist.is_initialized():
        return value
    sent = [value]
    dist.broadcast_object_list(sent, src=current().lead)
    return sent[0]
