"""Training speed alone and beside busy processes, for each OpenMP wait policy: does sharing the cores cost
more than a fair share?

    python bench/contention.py                                  # libgomp's default, passive, ctc_asr's; 0, 1, 2 busy loops
    python bench/contention.py --policies passive spin1k spin3k spin10k spin100k --epochs 0.25
    python bench/contention.py --competitors 0 1                # one busy loop only

Run `dvc repro filter` first: each run trains params.yaml's model for `--epochs` on the encoded corpus
in a fresh process (OpenMP reads its settings once, at start) and reports its own steps per second;
the busy loops (one process each, pure Python spinning) are started before it and stopped after it,
by this script. PyTorch's CPU threads are OpenMP's: between parallel regions a waiting thread spins
(`spin`: OMP_WAIT_POLICY=active), sleeps at once (`passive`), or spins a number of turns, then sleeps
(`libgomp`: libgomp's own 300,000 without either variable; `spin1k` ... `spin100k`: GOMP_SPINCOUNT;
ctc_asr sets 1,000 unless you set either variable). A long spin wastes the core a descheduled partner
thread needs, at every one of a step's thousands of small regions; sleeping at once pays a wake-up at each.
Prints, per policy, the steps/s with each number of busy loops and their share of the speed alone;
beside C busy processes a fair share is 1 / (1 + C): 50 % beside one, 33 % beside two.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cpu_step

POLICIES = {
    "libgomp": {"GOMP_SPINCOUNT": "300000"},  # libgomp's own count when neither variable is set
    "spin": {"OMP_WAIT_POLICY": "ACTIVE"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    **{f"spin{turns // 1000}k": {"GOMP_SPINCOUNT": str(turns)} for turns in (1000, 3000, 10000, 30000, 100000)},
}
CLEARED = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def busy_loops(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def timed_run(policy: str, competitors: int, epochs: float) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED} | POLICIES[policy]
    loops = busy_loops(competitors)
    try:
        time.sleep(0.5)  # the loops are running before the training starts
        done = subprocess.run([sys.executable, __file__, "--child", "--epochs", str(epochs)], env=env,
                              capture_output=True, text=True, check=True)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"steps_per_second": result["steps"] / result["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=0.5, help="training per run (default: 0.5 epoch)")
    parser.add_argument("--competitors", type=int, nargs="+", default=[0, 1, 2], help="busy loops beside (default: 0 1 2)")
    parser.add_argument("--policies", nargs="+", choices=list(POLICIES), default=["libgomp", "passive", "spin1k"],
                        help="OpenMP wait policies to compare (default: libgomp passive spin1k)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return cpu_step.child(args.epochs, {})  # one training run, as cpu_step's
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores; {args.epochs} epoch per run; torch threads: one per core (torch's default)", flush=True)
    losses = set()
    for policy in args.policies:
        alone = None
        for competitors in args.competitors:
            run = timed_run(policy, competitors, args.epochs)
            losses.add(run["final_loss"])
            alone = alone or (run["steps_per_second"] if competitors == 0 else None)
            share = f"{run['steps_per_second'] / alone:6.0%}" if alone else "   n/a"
            fair = 1 / (1 + competitors)
            print(f"{policy:8s} beside {competitors} busy: {run['steps']} steps in {run['seconds']:6.1f} s, "
                  f"{run['steps_per_second']:5.2f} steps/s, {share} of alone (fair share {fair:.0%})", flush=True)
    print(f"final losses: {sorted(losses)} (one value: every policy trained the same weights)")
    print(f"reproduce with: python {' '.join(Path(sys.argv[0]).as_posix().split()[:1] + sys.argv[1:])}")


if __name__ == "__main__":
    main()
