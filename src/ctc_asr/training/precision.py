"""Mixed precision: which dtype autocast uses, and the gradient scaler that goes with it."""

import contextlib

import torch

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `choice`; "auto" is bf16 on GPUs that have it, else fp16, and fp32 on CPU.

    CPUs gain little from half precision in training and some emulate bf16 slowly, so
    "auto" leaves them in fp32. None means no autocast.
    """
    if choice != "auto":
        return DTYPES[choice]
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


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
