"""Mixed precision: which dtype autocast uses, and the gradient scaler that goes with it."""

import contextlib

import torch

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `choice`; "auto" is bf16 on GPUs that have it, else fp16; on a CPU, bf16
    where it has bf16 instructions (AVX-512 BF16, AMX), else fp32. None means no autocast.

    A CPU without them emulates bf16, several times slower than fp32 (docs/results.md).
    """
    if choice != "auto":
        return DTYPES[choice]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if device.type == "cpu" and cpu_has_bf16() else None


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (torch's own cpuinfo probe; False where torch has no such probe)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def prefer_attention_kernels(model: torch.nn.Module, device: torch.device, dtype: torch.dtype | None) -> None:
    """Under bf16 on a CPU, attention as plain matrix products instead of PyTorch's fused kernel.

    The CPU's fused (flash) attention kernel runs its bf16 backward 2.5x slower than its fp32 one; plain
    batched matrix products run on the bf16 instructions (docs/results.md).
    """
    if device.type == "cpu" and dtype == torch.bfloat16 and hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")


def name(dtype: torch.dtype | None) -> str:
    return {v: k for k, v in DTYPES.items()}[dtype]


def autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()


class Scaler(torch.amp.GradScaler):
    """fp16 needs loss scaling; bf16 and fp32 get a scale held at 1.

    The scaler is useful all the same: it skips the optimizer step on the device when a
    gradient is inf or NaN, without waiting for the GPU (fused AdamW reads its flag).
    """

    def __init__(self, device: torch.device, dtype: torch.dtype | None):
        self.dynamic = dtype == torch.float16
        super().__init__(device.type, init_scale=2.0**16 if self.dynamic else 1.0)

    def update(self, new_scale=None) -> None:
        super().update(new_scale if self.dynamic else 1.0)
