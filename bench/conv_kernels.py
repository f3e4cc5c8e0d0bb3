"""The convolutions of a wav2vec2 step, as HF runs them against other ways to compute the same thing.

    python bench/conv_kernels.py                  # wav2vec2-base shapes: 16 clips of 3 s (TIMIT's mean)
    python bench/conv_kernels.py --clips 2 --seconds 1 --repeats 2   # a smoke test in seconds

Forward + backward (input and weight gradients), median of --repeats, for
- the positional convolution (768 channels, kernel 128, 16 groups, weight norm): HF's grouped
  conv1d, a channels-last conv2d view, unfold + batched matmul, and an FFT convolution;
- each conv feature-encoder layer (what training runs when the encoder is not frozen): HF's
  conv1d, a channels-last conv2d view, and unfold + matmul;
each in fp32 (TF32 off), TF32 where the device has it, and bf16 autocast where it has that.
Every variant's output and gradients are compared with HF's fp32 result: the `error` column is
the largest difference over the largest value (output and each gradient), and a variant counts
as matching within 1e-4 in fp32 and 2e-2 in bf16/TF32.
"""

import argparse
import statistics
import time

import torch
from torch.nn import functional as F
from transformers import Wav2Vec2Config
from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2PositionalConvEmbedding

TOLERANCE = {"fp32": 1e-4, "tf32": 2e-2, "bf16": 2e-2}


def pos_conv_channels_last(weight, bias, x, kernel, groups):
    """(B, T, C) -> (B, T, C), as HF's module; an even kernel gives one frame too many: dropped."""
    x2 = x.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)
    w2 = weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
    y = F.conv2d(x2, w2, bias, padding=(0, kernel // 2), groups=groups).squeeze(2)
    return F.gelu(y[..., :x.shape[1]]).transpose(1, 2)


def pos_conv_unfold(weight, bias, x, kernel, groups):
    batch, frames, channels = x.shape
    per = channels // groups
    padded = F.pad(x.transpose(1, 2), (kernel // 2, kernel // 2))
    windows = padded.unfold(2, kernel, 1)[:, :, :frames]  # (B, C, T, K)
    windows = windows.reshape(batch, groups, per, frames, kernel)
    y = torch.einsum("bgitk,goik->bgot", windows, weight.reshape(groups, per, per, kernel))
    return F.gelu(y.reshape(batch, channels, frames) + bias[:, None]).transpose(1, 2)


def pos_conv_fft(weight, bias, x, kernel, groups):
    batch, frames, channels = x.shape
    per = channels // groups
    padded = F.pad(x.transpose(1, 2).float(), (kernel // 2, kernel // 2))
    n = padded.shape[-1]  # cross-correlation by FFT: no wrap-around for the first `frames` outputs
    spectrum = torch.fft.rfft(padded, n).reshape(batch, groups, per, -1)
    kernels = torch.fft.rfft(weight.float(), n).reshape(groups, per, per, -1).conj()
    y = torch.fft.irfft(torch.einsum("bgif,goif->bgof", spectrum, kernels), n)[..., :frames]
    return F.gelu(y.reshape(batch, channels, frames) + bias[:, None]).transpose(1, 2)


POS_CONV = {"conv1d (HF)": None, "conv2d channels-last": pos_conv_channels_last,
            "unfold + bmm": pos_conv_unfold, "FFT": pos_conv_fft}


def conv_layer_reference(weight, x, stride):
    return F.conv1d(x, weight, stride=stride)


def conv_layer_channels_last(weight, x, stride):
    x2 = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
    return F.conv2d(x2, weight.unsqueeze(2).contiguous(memory_format=torch.channels_last), stride=(1, stride)).squeeze(2)


def conv_layer_unfold(weight, x, stride):
    """Windows of the input times the flattened kernel: one GEMM of (B*T', Cin*K) x (Cin*K, Cout)."""
    kernel = weight.shape[-1]
    windows = x.unfold(2, kernel, stride)  # (B, Cin, T', K)
    return torch.einsum("bitk,oik->bot", windows, weight)


CONV_LAYER = {"conv1d (HF)": conv_layer_reference, "conv2d channels-last": conv_layer_channels_last,
              "unfold + matmul": conv_layer_unfold}


def precisions(device: torch.device) -> list[str]:
    if device.type != "cuda":
        return ["fp32"]
    return ["fp32", "tf32"] + (["bf16"] if torch.cuda.is_bf16_supported() else [])


class Precision:
    """fp32 with TF32 off, TF32 on, or bf16 autocast, for the duration of a `with`."""

    def __init__(self, name: str, device: torch.device):
        self.name, self.device = name, device

    def __enter__(self):
        self.saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        tf32 = self.name == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
        self.autocast = torch.autocast(self.device.type, torch.bfloat16, enabled=self.name == "bf16")
        self.autocast.__enter__()

    def __exit__(self, *exc):
        self.autocast.__exit__(*exc)
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


def forward_backward(fn, inputs: list[torch.Tensor], grad_out: torch.Tensor) -> list[torch.Tensor]:
    for t in inputs:
        t.grad = None
    out = fn()
    out.backward(grad_out.to(out.dtype))
    return [out.detach().float()] + [t.grad.detach().float() for t in inputs]


def relative_error(results: list[torch.Tensor], reference: list[torch.Tensor]) -> float:
    return max(float((a - b).abs().max() / b.abs().max().clamp_min(1e-30)) for a, b in zip(results, reference))


def timed(fn, repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats + 1):  # the first run (cuDNN's planning, allocations) is not counted
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def compare(label: str, variants: dict, make_call, inputs, grad_out, device, repeats: int) -> list[dict]:
    """Time every variant at every precision; error against the first variant in fp32."""
    with Precision("fp32", device):
        reference = forward_backward(make_call(next(iter(variants.values()))), inputs, grad_out)
    rows = []
    for precision in precisions(device):
        for name, variant in variants.items():
            call = make_call(variant)
            with Precision(precision, device):
                try:
                    error = relative_error(forward_backward(call, inputs, grad_out), reference)
                    seconds = timed(lambda c=call: forward_backward(c, inputs, grad_out), repeats, device)
                except RuntimeError as failure:  # e.g. out of memory: say so, go on
                    rows.append({"part": label, "variant": name, "precision": precision, "failed": str(failure)[:80]})
                    continue
            rows.append({"part": label, "variant": name, "precision": precision, "ms": seconds * 1e3,
                         "error": error, "matches": error <= TOLERANCE[precision]})
    return rows


def positional_conv_rows(config: Wav2Vec2Config, batch: int, frames: int, device, repeats: int) -> list[dict]:
    torch.manual_seed(0)
    module = Wav2Vec2PositionalConvEmbedding(config).to(device)
    x = torch.randn(batch, frames, config.hidden_size, device=device, requires_grad=True)
    grad_out = torch.randn(batch, frames, config.hidden_size, device=device)
    weight_g, weight_v = module.conv.parametrizations.weight.original0, module.conv.parametrizations.weight.original1
    kernel, groups = config.num_conv_pos_embeddings, config.num_conv_pos_embedding_groups

    def make_call(variant):
        if variant is None:  # HF's module itself
            return lambda: module(x)
        # the weight-norm parametrisation, as HF's module computes it, differentiated through
        return lambda: variant(module.conv.weight, module.conv.bias, x, kernel, groups)

    return compare("positional conv", POS_CONV, make_call, [x, weight_g, weight_v, module.conv.bias], grad_out,
                   device, repeats)


def encoder_layer_rows(config: Wav2Vec2Config, batch: int, samples: int, device, repeats: int) -> list[dict]:
    rows, length, channels, seen = [], samples, 1, set()
    for k, (dim, kernel, stride) in enumerate(zip(config.conv_dim, config.conv_kernel, config.conv_stride)):
        out_length = (length - kernel) // stride + 1
        if (channels, dim, kernel, stride) not in seen:  # layers of the same kind differ only in length
            seen.add((channels, dim, kernel, stride))
            torch.manual_seed(k)
            weight = (torch.randn(dim, channels, kernel, device=device) / (channels * kernel) ** 0.5).requires_grad_()
            x = torch.randn(batch, channels, length, device=device, requires_grad=True)
            grad_out = torch.randn(batch, dim, out_length, device=device)
            label = f"conv {k} ({channels}->{dim}, k{kernel} s{stride}, {length} in)"
            rows += compare(label, CONV_LAYER, lambda v, w=weight, x=x, s=stride: (lambda: v(w, x, s)), [x, weight],
                            grad_out, device, repeats)
        length, channels = out_length, dim
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=16, help="clips in the batch (default 16)")
    parser.add_argument("--seconds", type=float, default=3.0, help="each clip's length (default 3, TIMIT's mean)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    config = Wav2Vec2Config()  # wav2vec2-base
    samples = int(args.seconds * 16000)
    frames = samples // 320 - 1
    rows = positional_conv_rows(config, args.clips, frames, device, args.repeats)
    rows += encoder_layer_rows(config, args.clips, samples, device, args.repeats)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; {args.clips} clips of {args.seconds} s; forward + backward, median of {args.repeats}")
    print(f"{'part':<42}{'variant':<22}{'precision':<10}{'ms':>9}{'error':>10}  matches")
    for row in rows:
        if "failed" in row:
            print(f"{row['part']:<42}{row['variant']:<22}{row['precision']:<10}  failed: {row['failed']}")
            continue
        print(f"{row['part']:<42}{row['variant']:<22}{row['precision']:<10}{row['ms']:>9.2f}{row['error']:>10.1e}"
              f"  {'yes' if row['matches'] else 'NO'}")
    for part in dict.fromkeys(r["part"] for r in rows):
        for precision in precisions(device):
            ok = [r for r in rows if r["part"] == part and r["precision"] == precision and r.get("matches")]
            if ok:
                best, hf = min(ok, key=lambda r: r["ms"]), next(r for r in ok if r["variant"] == "conv1d (HF)")
                print(f"fastest matching, {part}, {precision}: {best['variant']} "
                      f"({hf['ms'] / best['ms']:.2f}x HF's conv1d)")


if __name__ == "__main__":
    main()
