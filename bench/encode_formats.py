"""Encode throughput per source format: LibriSpeech's 16 kHz FLAC against Common Voice's 48 and 32 kHz MP3,
and the same FLAC clips as segments of one long recording (Kaldi's segments, NeMo's offsets).

    python bench/encode_formats.py --clips 200 --seconds 6 --workers 2

Writes --clips clips of --seconds seconds (speech-like: harmonics on a wandering pitch, with
noise) in each format, then decodes them as the encode stage does (audio.load: decode, mix to
mono, resample to 16 kHz, int16) on --workers processes through parallel.ordered_map, and
prints clips per second and audio seconds per second, the median of --repeats runs. The
segments case writes the clips one after another into one FLAC recording and reads each by
seeking to it (audio.load with its segment). The store writing is left out: it is the same for
every format.
"""

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf

from ctc_asr.core.parallel import ordered_map
from ctc_asr.data import audio
from ctc_asr.data.rejects import attempt

# name: (suffix, sample rate, sf.write options)
FORMATS = {"FLAC 16 kHz (LibriSpeech)": (".flac", 16000, dict(format="FLAC", subtype="PCM_16")),
           "MP3 48 kHz (Common Voice)": (".mp3", 48000, dict(format="MP3")),
           "MP3 32 kHz (Common Voice)": (".mp3", 32000, dict(format="MP3"))}
SEGMENTS = "FLAC 16 kHz, segments of one recording (Kaldi, NeMo)"


def speech_like(seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    pitch = 120 + 40 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    return (0.2 * voiced * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def write_clips(folder: Path, suffix: str, rate: int, options: dict, clips: int, seconds: float) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = [folder / f"{k:05d}{suffix}" for k in range(clips)]
    for path in paths:
        sf.write(path, speech_like(seconds, rate, rng), rate, **options)
    return paths


def write_recording(folder: Path, clips: int, seconds: float) -> list[tuple[Path, tuple[float, float]]]:
    """One recording of `clips` clips of `seconds`, and each clip's (path, segment) in it."""
    path = folder / "recording.flac"
    sf.write(path, speech_like(clips * seconds, 16000, np.random.default_rng(0)), 16000, format="FLAC", subtype="PCM_16")
    return [(path, (k * seconds, seconds)) for k in range(clips)]


def decode_all(items: list[tuple[Path, tuple[float, float] | None]], workers: int) -> float:
    decode = partial(attempt, audio.load_clip, sample_rate=16000, dtype="int16")
    start = time.perf_counter()
    for value, bad in ordered_map(decode, items, workers):
        assert bad is None and value is not None, bad
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each clip (Common Voice's are about 5 s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if "MP3" not in sf.available_formats():
        sys.exit(f"libsndfile {sf.__libsndfile_version__} cannot write or decode MP3: {audio.MP3_FIX}")
    print(f"command: python bench/encode_formats.py --clips {args.clips} --seconds {args.seconds} "
          f"--workers {args.workers} --repeats {args.repeats}  (libsndfile {sf.__libsndfile_version__})")
    print(f"| format | bytes per audio second | clips/s ({args.workers} workers) | audio s/s |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        clips, sizes = {}, {}
        for number, (name, (suffix, rate, options)) in enumerate(FORMATS.items()):
            (Path(scratch) / str(number)).mkdir()
            paths = write_clips(Path(scratch) / str(number), suffix, rate, options, args.clips, args.seconds)
            clips[name] = [(path, None) for path in paths]
            sizes[name] = sum(p.stat().st_size for p in paths) / (args.clips * args.seconds)
        clips[SEGMENTS] = write_recording(Path(scratch), args.clips, args.seconds)
        sizes[SEGMENTS] = clips[SEGMENTS][0][0].stat().st_size / (args.clips * args.seconds)
        # formats take turns within each repeat, so that a slower spell of the machine is shared among them
        times = {name: [] for name in clips}
        for _ in range(args.repeats):
            for name, paths in clips.items():
                times[name].append(decode_all(paths, args.workers))
    for name, seconds in ((name, statistics.median(runs)) for name, runs in times.items()):
        print(f"| {name} | {sizes[name]:,.0f} | {args.clips / seconds:,.1f} | {args.clips * args.seconds / seconds:,.0f} |")


if __name__ == "__main__":
    main()
