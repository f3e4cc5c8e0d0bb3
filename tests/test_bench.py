"""The training benchmark: its FLOPs formula against PyTorch's counter, and its CPU smoke mode."""

import subprocess
import sys
from pathlib import Path

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
