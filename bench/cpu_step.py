"""CPU training step speed of the demo config: fp32, bf16 autocast and torch.compile, side by side.

    python bench/cpu_step.py                          # each variant twice, interleaved, 0.25 epoch a run
    python bench/cpu_step.py --epochs 0.1 --rounds 1  # quicker
    python bench/cpu_step.py --variants fp32 compile

Run `dvc repro filter` first. Each run trains params.yaml's model on the encoded corpus in a fresh
process with one train setting changed (train.precision or train.compile) and reports its own
steps per second (`metrics/timing/train.json`'s clock: the training loop alone, from its first
step); runs are interleaved round by round so that a drift in the machine's speed touches every
variant alike, and the median of each variant's rounds is printed with its ratio to fp32.
The first steps of a compiled run include its compilation: see `--epochs`.
bf16 on a CPU without AVX-512 BF16 or AMX (see /proc/cpuinfo's flags) is emulated by oneDNN.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

VARIANTS = {"fp32": {"precision": "fp32"}, "bf16": {"precision": "bf16"}, "compile": {"compile": True}}


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


def timed_run(variant: str, epochs: float) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", variant, "--epochs", str(epochs)],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{variant} failed:\n" + "\n".join(done.stderr.strip().splitlines()[-15:]))
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"steps_per_second": result["steps"] / result["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=0.25, help="training per run (default: 0.25 epoch)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant, interleaved (default: 2)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.epochs, VARIANTS[args.child])
    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    print(f"CPU bf16 instructions: {', '.join(sorted(flags & {'avx512_bf16', 'amx_bf16'})) or 'none'}; "
          f"{args.epochs} epoch a run, {args.rounds} rounds", flush=True)
    speeds = {variant: [] for variant in args.variants}
    for round_ in range(args.rounds):
        for variant in args.variants:
            run = timed_run(variant, args.epochs)
            speeds[variant].append(run["steps_per_second"])
            print(f"round {round_ + 1} {variant:8s}: {run['steps']} steps in {run['seconds']:6.1f} s, "
                  f"{run['steps_per_second']:5.2f} steps/s, final loss {run['final_loss']:.4f}", flush=True)
    base = statistics.median(speeds.get("fp32") or next(iter(speeds.values())))
    for variant, values in speeds.items():
        median = statistics.median(values)
        print(f"{variant:8s} median {median:5.2f} steps/s  {median / base:5.2f}x fp32")
    print(f"reproduce with: python bench/cpu_step.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
