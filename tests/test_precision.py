import pytest
import torch

from ctc_asr.training import precision

CPU = torch.device("cpu")


@pytest.mark.parametrize("choice, dtype", [("fp32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_autocast_dtype_on_cpu(choice, dtype):
    assert precision.autocast_dtype(choice, CPU) is dtype


@pytest.mark.parametrize("native, dtype", [(True, torch.bfloat16), (False, None)])
def test_auto_on_a_cpu_is_bf16_only_where_it_has_the_instructions(monkeypatch, native, dtype):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: native)
    assert precision.autocast_dtype("auto", CPU) is dtype


def test_the_bf16_probe_reads_torchs_cpuinfo(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert precision.cpu_has_bf16()
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not precision.cpu_has_bf16()


def tiny_ctc_model():
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC
    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                            conv_dim=[8] * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                            vocab_size=6, mask_time_prob=0.0)
    torch.manual_seed(0)
    return Wav2Vec2ForCTC(config)


@pytest.mark.parametrize("dtype, expected", [(torch.bfloat16, "eager"), (None, "sdpa")])
def test_bf16_on_a_cpu_takes_plain_matrix_products_for_attention(dtype, expected):
    model = tiny_ctc_model()
    precision.prefer_attention_kernels(model, CPU, dtype)
    assert model.config._attn_implementation == expected


def test_the_plain_attention_computes_what_the_fused_kernel_does():
    model, audio = tiny_ctc_model(), torch.randn(2, 8000, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([[1, 2, 3], [4, 5, 1]])
    losses = []
    for kernels in ("sdpa", "eager"):
        model.set_attn_implementation(kernels)
        with precision.autocast(CPU, torch.bfloat16):
            losses.append(model(audio, labels=labels).loss.float().item())
    assert losses[1] == pytest.approx(losses[0], rel=2e-2)


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
