"""Several processes through torchrun (DDP): launching, joining, and splitting each batch.

One process per GPU (gloo processes on a machine without one). Every process plans the
same batches; each takes every world-th clip of each batch, so the global batch, and with
it the result, is the same for any number of processes.
"""

import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from .errors import UserError


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """True inside a process that torchrun started."""
    return "LOCAL_RANK" in os.environ


def relaunch(processes: int, script: str) -> int:
    """Run `script` (with this process's arguments) in `processes` processes under torchrun; its exit code."""
    if torch.cuda.is_available() and processes > torch.cuda.device_count():
        raise UserError(f"train.gpus: {processes} asked for, {torch.cuda.device_count()} visible")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", script, *sys.argv[1:]]
    return subprocess.run(command).returncode


def join() -> Ranks:
    """Join torchrun's process group (NCCL on GPUs, gloo on CPUs); one process: nothing to join."""
    if not launched():
        return Ranks()
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return current()


def current() -> Ranks:
    return Ranks(dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else Ranks()


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
    """Every process's `value`, in rank order, on the first process (others get their own in a list)."""
    if not dist.is_initialized():
        return [value]
    gathered = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(value, gathered, dst=0)
    return gathered if gathered is not None else [value]
