import pytest
import torch

from ctc_asr.training import precision

CPU = torch.device("cpu")


@pytest.mark.parametrize("choice, dtype", [("auto", None), ("fp32", None), ("bf16", torch.bfloat16),
                                           ("fp16", torch.float16)])
def test_autocast_dtype_on_cpu(choice, dtype):
    assert precision.autocast_dtype(choice, CPU) is dtype


def test_auto_on_a_gpu_prefers_bf16(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert precision.autocast_dtype("auto", torch.device("cuda")) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert precision.autocast_dtype("auto", torch.device("cuda")) is torch.float16


def step(scaler: precision.Scaler, weight: torch.nn.Parameter, optimizer, slope: torch.Tensor) -> None:
    scaler.scale((weight * slope).sum()).backward()  # the gradient is `slope`
    scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad()


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_a_fixed_scaler_stays_at_one_and_skips_non_finite_steps(dtype):
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scaler = precision.Scaler(CPU, dtype)
    for slope in (torch.tensor([1.0, float("inf"), 0.0]), torch.tensor([1.0, 1.0, 1.0])):
        step(scaler, weight, optimizer, slope)
        assert scaler.get_scale() == 1.0
    assert weight.detach().tolist() == pytest.approx([0.9, 0.9, 0.9])  # the inf step left no trace


def test_an_fp16_scaler_scales_and_backs_off():
    weight = torch.nn.Parameter(torch.ones(1))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scaler = precision.Scaler(CPU, torch.float16)
    step(scaler, weight, optimizer, torch.tensor([float("nan")]))
    assert scaler.get_scale() == 2.0**15 and weight.item() == 1.0
