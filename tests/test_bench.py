"""The training benchmark: its FLOPs formula against PyTorch's counter, and its CPU smoke mode."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import train_speed  # noqa: E402


@pytest.mark.parametrize("samples", [16000, 37000])
@pytest.mark.parametrize("fields", [
    dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=[16] * 7,
         num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4),
    dict(hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=40, conv_dim=[8] * 7,
         num_conv_pos_embeddings=15, num_conv_pos_embedding_groups=2, vocab_size=11),
], ids=["even-pos-kernel", "odd-pos-kernel"])
def test_forward_flops_match_pytorchs_count(fields, samples):
    config = Wav2Vec2Config(**fields)
    config._attn_implementation = "eager"  # the counter sees eager attention's matmuls, not every SDPA kernel
    network = Wav2Vec2ForCTC(config).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        network(torch.randn(1, samples))
    conv, rest = train_speed.forward_flops(config, samples)
    assert conv + rest == pytest.approx(counter.get_total_flops(), rel=1e-6)


def test_cpu_smoke_mode_prints_both_recipes_and_their_ratio(tmp_path):
    out = tmp_path / "speed.json"
    done = subprocess.run([sys.executable, str(BENCH / "train_speed.py"), "--config", "tiny", "--clips", "96",
                           "--steps", "4", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("(a) seed recipe") and "%" in line for line in lines)
    assert any(line.startswith("(b) ours") and "%" in line for line in lines)
    assert any(line.startswith("b/a: ") for line in lines)
    import json

    rows = json.loads(out.read_text())["rows"]
    assert rows["(a) seed recipe"]["steps"] == 2 and rows["(b) ours"]["steps"] > 0
    assert rows["(a) seed recipe"]["clips"] == 2 * 32 and rows["(b) ours"]["flops"] > 0


def test_every_conv_variant_computes_hfs_convolution_and_a_wrong_one_is_caught():
    import conv_kernels

    config = Wav2Vec2Config(hidden_size=32, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
                            conv_dim=[8] * 7)
    cpu = torch.device("cpu")
    rows = conv_kernels.positional_conv_rows(config, 2, 40, cpu, repeats=1)
    rows += conv_kernels.encoder_layer_rows(config, 2, 4000, cpu, repeats=1)
    assert {r["variant"] for r in rows} == {*conv_kernels.POS_CONV, *conv_kernels.CONV_LAYER}
    assert {r["part"] for r in rows} >= {"positional conv", "conv 0 (1->8, k10 s5, 4000 in)"}
    assert [r for r in rows if not r.get("matches")] == []
    weight, x = torch.randn(8, 4, 3, requires_grad=True), torch.randn(2, 4, 50, requires_grad=True)
    wrong = {"conv1d (HF)": conv_kernels.conv_layer_reference, "stride ignored": lambda w, x, s: torch.nn.functional.conv1d(
        x, w, stride=1)[..., ::s] * 1.01}
    checked = conv_kernels.compare("wrong", wrong, lambda v: (lambda: v(weight, x, 2)), [x, weight],
                                   torch.randn(2, 8, 24), cpu, repeats=1)
    assert [r["matches"] for r in checked] == [True, False]


def test_encode_formats_prints_a_row_per_format():
    done = subprocess.run([sys.executable, str(BENCH / "encode_formats.py"), "--clips", "4", "--seconds", "1",
                           "--repeats", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| FLAC", "| MP3"))]
    # three formats, and segments of one recording
    assert len(rows) == 4 and all(float(row.split("|")[3].replace(",", "")) > 0 for row in rows)


def test_augment_speed_prints_each_configuration_against_augmentation_off(make_store, vocab_file):
    rng = np.random.default_rng(0)
    store = make_store([0.1 * rng.standard_normal(int(rng.uniform(0.6, 1.5) * 16000)) for _ in range(12)],
                       [rng.integers(1, 10, 8) for _ in range(12)], dtype="int16")
    done = subprocess.run([sys.executable, str(BENCH / "augment_speed.py"), "--store", str(store.folder), "--vocab",
                           str(vocab_file), "--steps", "2", "--warmup", "1", "--repeats", "1", "--clips", "4"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in done.stdout.splitlines() if line.startswith("| ")}
    assert [float(r) for r in rows["off"][1::2]] == [1.0, 1.0]  # the ratios' base
    assert all(float(rows[name][0]) > 0 for name in ("speed", "every kind, params.yaml's p", "every kind, p = 1"))
    assert float(rows["codec (opus)"][0]) > float(rows["gain"][0]) > 0
    assert "command: python bench/augment_speed.py --store" in done.stdout
