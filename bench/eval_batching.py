"""Eval throughput: exact batched inference against the one-clip-at-a-time loop.

    python bench/eval_batching.py                 # wav2vec2-base architecture, random weights
    python bench/eval_batching.py --config demo   # the default demo's scratch architecture
    python bench/eval_batching.py --clips 32 --config tiny    # a smoke test in seconds

Both paths run in this process on the same device and the same clips, whose lengths follow
TIMIT's test split (log-normal, mean ~3 s, 1-7 s). The batched path must give the same
logits (max abs difference printed) and the same argmax frames. A third row times what
`python -m ctc_asr transcribe` runs on a long recording: the same clips back to back as one
recording, in its default 20 s chunks with 2 s overlap, 8 chunks a batch.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

from ctc_asr.cli import CHUNK_SECONDS, CHUNKS_PER_BATCH, OVERLAP_SECONDS
from ctc_asr.core import params
from ctc_asr.data.sources.timit import modelled_seconds
from ctc_asr.decoding.inference import logits
from ctc_asr.decoding.longform import Chunking, recording_logits
from ctc_asr.network.batches import standardize
from ctc_asr.network.model import device

CONFIGS = {
    "base": {},  # Wav2Vec2Config() is wav2vec2-base: group norm, 12 layers x 768
    "demo": "params.yaml",  # the scratch architecture of the default demo
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, conv_dim=[32] * 7),
}


def architecture(name: str) -> dict:
    if CONFIGS[name] == "params.yaml":
        cfg = params.load()
        return {**cfg.model.scratch, **cfg.model.config}
    return CONFIGS[name]


def timit_like_clips(count: int, rng: np.random.Generator, rate: int = 16000) -> list[np.ndarray]:
    """Random audio with TIMIT's length distribution (as modelled in ctc_asr.data.sources.timit)."""
    return [rng.standard_normal(int(s * rate)).astype(np.float32) * 0.1 for s in modelled_seconds(count, rng)]


@torch.inference_mode()
def one_at_a_time(model: Wav2Vec2ForCTC, clips: list[np.ndarray]) -> list[torch.Tensor]:
    on = next(model.parameters()).device
    return [model(torch.from_numpy(standardize(c))[None].to(on)).logits[0].float().cpu() for c in clips]


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=CONFIGS, default="base")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each path; the median is reported")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**architecture(args.config))).to(device()).eval()
    clips = timit_like_clips(args.clips, np.random.default_rng(0))
    audio_seconds = sum(len(c) for c in clips) / 16000
    one_at_a_time(model, clips[:2]), logits(model, clips[:2])  # warm-up
    single_time, singles = timed(lambda: one_at_a_time(model, clips), args.repeats)
    batched_time, batched = timed(lambda: logits(model, clips, args.batch_size), args.repeats)
    recording, chunking = np.concatenate(clips), Chunking.of(model, 16000, CHUNK_SECONDS, OVERLAP_SECONDS)
    transcribe_time, _ = timed(lambda: recording_logits(model, recording, chunking, CHUNKS_PER_BATCH), args.repeats)
    difference = max(float((a - b).abs().max()) for a, b in zip(singles, batched))
    same_frames = all(torch.equal(a.argmax(-1), b.argmax(-1)) for a, b in zip(singles, batched))
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; model: {args.config} ({model.num_parameters() / 1e6:.1f} M parameters, "
          f"feat_extract_norm={model.config.feat_extract_norm}); {len(clips)} clips, {audio_seconds:.0f} s of audio; "
          f"median of {args.repeats}")
    print(f"{'path':<26}{'seconds':>9}{'clips/s':>9}{'audio s/s':>11}")
    for label, seconds in (("batch size 1 (seed)", single_time), (f"exact batches of {args.batch_size}", batched_time),
                           ("transcribe, one recording", transcribe_time)):
        print(f"{label:<26}{seconds:>9.2f}{len(clips) / seconds:>9.1f}{audio_seconds / seconds:>11.1f}")
    print(f"speed-up: {single_time / batched_time:.2f}x; max |logit difference|: {difference:.2e}; "
          f"same argmax frames: {same_frames}")


if __name__ == "__main__":
    main()
