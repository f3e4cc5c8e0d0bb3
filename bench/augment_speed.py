"""What waveform augmentation costs the training step: params.yaml's model and train section, augmentation off and on.

    python bench/augment_speed.py                        # the encoded demo corpus (run `dvc repro filter` first)
    python bench/augment_speed.py --steps 120 --repeats 3
    python bench/augment_speed.py --store DIR --vocab FILE   # another store (every train clip, no filter decisions)

Each configuration trains params.yaml's model from the same initial weights for --warmup + --steps
steps with params.yaml's train section (its data-loader workers, its threads), in this one
process, the configurations taking turns --repeats times so that a change in the machine's speed
falls on all of them alike. A step is timed from the end of the one before (the history's clock,
logged every step); the first --warmup steps of each run are left out (the workers starting, the
queue filling). Printed: the median step time and the stored audio trained on per second (the
mean stored audio of a step over the median step time), each with its ratio to augmentation off;
then what each kind costs alone, in one process: milliseconds of augmenting per second of audio
(the work the data-loader workers do beside the step).

Configurations: off; speed (Kaldi's 0.9/1.0/1.1 on every clip, which also makes batches ~10 %
smaller: planned at 0.9's length); every kind at params.yaml's probabilities; every kind on every clip.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ctc_asr.core import layout, params, tables
from ctc_asr.data.store import Store
from ctc_asr.data.target import Target
from ctc_asr.network import model
from ctc_asr.training.augment import KINDS, Augmenter, planned_lengths
from ctc_asr.training.loop import fit, kept_rows, plan_epochs

PROJECT = Path(__file__).resolve().parents[1]


def enabled(augment: params.AugmentParams, kinds, probability: float | None = None) -> params.AugmentParams:
    """`augment` with `kinds` on, at `probability` (None: params.yaml's own)."""
    changes = {"enabled": True, **({} if probability is None else {"probability": probability})}
    return augment.replace(**{kind: getattr(augment, kind).replace(**changes).model_dump() for kind in kinds})


def configurations(augment: params.AugmentParams) -> dict[str, params.AugmentParams]:
    return {"off": augment, "speed": enabled(augment, ["speed"], 1.0),
            "every kind, params.yaml's p": enabled(augment, KINDS), "every kind, p = 1": enabled(augment, KINDS, 1.0)}


class StepClock:
    """The time at the end of each step (fit logs every step to it, as to a history)."""

    def __init__(self):
        self.times: dict[int, float] = {}

    def log(self, name: str, step: int, **values) -> None:
        if name == "steps":
            self.times[step] = time.perf_counter()


def one_run(cfg: params.Params, store: Store, rows, tokenizer, augment, steps: int, warmup: int) -> tuple[list, list]:
    """Durations of the timed steps, and the stored audio seconds of each."""
    lengths = store.index["audio_length"].to_numpy()[rows]
    planned = planned_lengths(augment, lengths)
    per_epoch = len(plan_epochs(planned, cfg.train.replace(epochs=1), store.sample_rate))
    train = cfg.train.replace(epochs=(warmup + steps) / per_epoch, checkpoint_every=0, eval_every=10**9, log_every=1)
    plan = plan_epochs(planned, train, store.sample_rate)
    network = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer, seed=cfg.train.seed)
    clock = StepClock()
    fit(network, store, rows, None, train, clock, augment=augment)
    timed = range(warmup + 1, len(plan) + 1)
    durations = [clock.times[k] - clock.times[k - 1] for k in timed]
    audio = [lengths[plan[k - 1][1]].sum() / store.sample_rate for k in timed]
    return durations, audio


def kind_costs(cfg: params.Params, store: Store, rows, config, clips: int) -> dict[str, float]:
    """Milliseconds of augmenting per second of audio, each kind alone on every clip, in this process."""
    picked = np.random.default_rng(0).choice(rows, size=min(clips, len(rows)), replace=False)
    seconds = store.index["audio_length"].to_numpy()[picked].sum() / store.sample_rate
    alone = {kind: enabled(cfg.augment, [kind], 1.0) for kind in KINDS}
    for codec in cfg.augment.codec.formats:
        alone[f"codec ({codec})"] = alone["codec"].replace(codec=alone["codec"].codec.replace(formats=[codec]).model_dump())
    costs = {}
    for name, augment in alone.items():
        augmenter = Augmenter.of(augment, store, rows, config, cfg.train.seed)
        augmenter.batch(picked[:2], seed=0)  # imports and first calls outside the clock
        started = time.perf_counter()
        augmenter.batch(picked, seed=1)
        costs[name] = 1000 * (time.perf_counter() - started) / seconds
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=80, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=10, help="steps per run before the clock counts")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each configuration, taking turns")
    parser.add_argument("--clips", type=int, default=100, help="clips augmented to time each kind alone")
    parser.add_argument("--store", type=Path, default=layout.ENCODED)
    parser.add_argument("--vocab", type=Path, default=layout.VOCAB)
    args = parser.parse_args()
    cfg = params.load(PROJECT / "params.yaml")
    store = Store(args.store)
    decisions = layout.DECISIONS if args.store == layout.ENCODED else None
    rows = kept_rows(store, tables.read(decisions)) if decisions else store.rows("train")
    tokenizer = Target.of(cfg.target, cfg.data.source).tokenizer(args.vocab)
    runs = {name: ([], []) for name in configurations(cfg.augment)}
    for _ in range(args.repeats):
        for name, augment in configurations(cfg.augment).items():
            durations, audio = one_run(cfg, store, rows, tokenizer, augment, args.steps, args.warmup)
            runs[name][0].extend(durations)
            runs[name][1].extend(audio)
            print(f"{name}: median step {statistics.median(durations):.3f} s", flush=True)
    config = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer, seed=0).config
    report(runs, kind_costs(cfg, store, rows, config, args.clips), cfg, len(rows), args)


def report(runs: dict, costs: dict, cfg: params.Params, clips: int, args) -> None:
    print(f"\n{clips} training clips; params.yaml's model and train section ({cfg.train.workers} data-loader workers, "
          f"{torch.get_num_threads()} torch threads); {args.repeats} x {args.steps} timed steps per configuration")
    print("| configuration | median step (s) | ratio | audio s per s | ratio |\n| --- | --- | --- | --- | --- |")
    def rate(durations: list, audio: list) -> float:  # medians: a stall of the shared machine moves a mean
        return statistics.mean(audio) / statistics.median(durations)

    base_step, base_rate = statistics.median(runs["off"][0]), rate(*runs["off"])
    for name, (durations, audio) in runs.items():
        step = statistics.median(durations)
        rate_here = rate(durations, audio)
        print(f"| {name} | {step:.3f} | {step / base_step:.2f} | {rate_here:.1f} | {rate_here / base_rate:.2f} |")
    print("\n| kind alone, every clip | ms per audio second |\n| --- | --- |")
    for kind, cost in costs.items():
        print(f"| {kind} | {cost:.2f} |")
    print(f"\ncommand: python bench/augment_speed.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
