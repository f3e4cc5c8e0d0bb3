"""CPU training step speed of the demo config: fp32, bf16 autocast and torch.compile, side by side.

    python bench/cpu_step.py                          # each variant twice, interleaved, 0.25 epoch a run
    python bench/cpu_step.py --epochs 0.1 --rounds 1  # quicker
    python bench/cpu_step.py --variants fp32 compile
    python bench/cpu_step.py --variants auto --baseline 5e48e33   # the default now against a commit's default

`--baseline COMMIT` adds a variant `COMMIT`: that commit's library and bench (git archive) training in
fp32 (what `precision: auto` gave on CPUs before it took bf16) with its own OpenMP setting, on the same
corpus and params; ratios are then to it.

Run `dvc repro filter` first. Each run trains params.yaml's model on the encoded corpus in a fresh
process with one train setting changed (train.precision or train.compile) and reports its own
steps per second (`metrics/timing/train.json`'s clock: the training loop alone, from its first
step); runs are interleaved round by round so that a drift in the machine's speed touches every
variant alike, and the median of each variant's rounds is printed with its ratio to fp32.
The first steps of a compiled run include its compilation: see `--epochs`.
bf16 on a CPU without AVX-512 BF16 or AMX (see /proc/cpuinfo's flags) is emulated by oneDNN.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
VARIANTS = {"auto": {}, "fp32": {"precision": "fp32"}, "bf16": {"precision": "bf16"},
            "compile": {"precision": "fp32", "compile": True}, "bf16-compile": {"precision": "bf16", "compile": True}}


def child(epochs: float, changes: dict) -> None:
    """One training run in this process, with `changes` to the train section: prints its steps and seconds as JSON."""
    from ctc_asr.core import layout, params, tables
    from ctc_asr.data.store import Store
    from ctc_asr.data.target import Target
    from ctc_asr.network import model
    from ctc_asr.training.loop import fit, kept_rows

    cfg, store = params.load(), Store(layout.ENCODED)
    rows = kept_rows(store, tables.read(layout.DECISIONS))
    tokenizer = Target.of(cfg.target, cfg.data.source).tokenizer(layout.VOCAB)
    network = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer, seed=cfg.train.seed)
    summary = fit(network, store, rows, None, cfg.train.replace(epochs=epochs, checkpoint_every=0, **changes))
    print(json.dumps({"steps": summary["steps"], "seconds": summary["timing"]["train_seconds"],
                      "final_loss": summary["final_loss"]}))


def unpacked(commit: str, folder: Path) -> Path:
    """`commit`'s src/ and bench/ under `folder`."""
    archive = subprocess.run(["git", "archive", commit, "src", "bench"], cwd=PROJECT, capture_output=True, check=True)
    tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(folder, filter="data")
    return folder


def timed_run(variant: str, epochs: float, baseline: Path | None = None) -> dict:
    """A run of `variant` in a fresh process; `baseline`: the unpacked commit whose code runs instead."""
    script, env, child_variant = Path(__file__), dict(os.environ), variant
    if baseline:
        # its fp32 variant: what a CPU trained in before precision auto took bf16 on CPUs that have it
        script, env["PYTHONPATH"], child_variant = baseline / "bench/cpu_step.py", str(baseline / "src"), "fp32"
    done = subprocess.run([sys.executable, str(script), "--child", child_variant, "--epochs", str(epochs)],
                          cwd=PROJECT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{variant} failed:\n" + "\n".join(done.stderr.strip().splitlines()[-15:]))
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"steps_per_second": result["steps"] / result["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=0.25, help="training per run (default: 0.25 epoch)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant, interleaved (default: 2)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--baseline", metavar="COMMIT", help="also time this commit's code in fp32; ratios to it")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.epochs, VARIANTS[args.child])
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    print(f"CPU bf16 instructions: {', '.join(sorted(flags & {'avx512_bf16', 'amx_bf16'})) or 'none'}; "
          f"{args.epochs} epoch a run, {args.rounds} rounds", flush=True)
    variants = ([args.baseline] if args.baseline else []) + args.variants
    speeds = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory() as folder:
        baseline = unpacked(args.baseline, Path(folder)) if args.baseline else None
        for round_ in range(args.rounds):
            for variant in variants:
                run = timed_run(variant, args.epochs, baseline if variant == args.baseline else None)
                speeds[variant].append(run["steps_per_second"])
                print(f"round {round_ + 1} {variant:8s}: {run['steps']} steps in {run['seconds']:6.1f} s, "
                      f"{run['steps_per_second']:5.2f} steps/s, final loss {run['final_loss']:.4f}", flush=True)
    reference = args.baseline or ("fp32" if "fp32" in speeds else variants[0])
    base = statistics.median(speeds[reference])
    for variant, values in speeds.items():
        median = statistics.median(values)
        print(f"{variant:8s} median {median:5.2f} steps/s  {median / base:5.2f}x {reference}")
    print(f"reproduce with: python bench/cpu_step.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
