"""Regression gate (a check, not a pipeline stage): fail when WER or CER got worse than at a git ref.

    python stages/gate.py [REF]     # REF: a commit, branch or tag; HEAD when left out

Compares metrics/eval.json in the workspace with REF's through `dvc metrics diff`, prints
the table, and exits 1 when an error rate rose by more than params.yaml's `gate` allows.
"""

import argparse
import json
import subprocess
import sys

from ctc_asr import params
from ctc_asr.errors import UserError, exit_on_user_error
from ctc_asr.gate import regressions

METRICS = "metrics/eval.json"


def dvc_metrics_diff(ref: str, *options: str) -> str:
    command = [sys.executable, "-m", "dvc", "metrics", "diff", ref, "--all", "--targets", METRICS, *options]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        last_line = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise UserError(f"dvc metrics diff {ref} failed: {last_line}")
    return done.stdout


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", nargs="?", default="HEAD", help="git ref to compare with (default: HEAD)")
    ref = parser.parse_args(argv).ref
    limits = params.load().gate
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True).returncode:
        raise UserError(f"{ref}: not a git commit, branch or tag here")
    print(dvc_metrics_diff(ref, "--md"))
    diff = json.loads(dvc_metrics_diff(ref, "--json") or "{}").get(METRICS, {})
    problems = regressions(diff, {"wer": limits.max_wer_increase, "cer": limits.max_cer_increase})
    for problem in problems:
        print(f"gate: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"gate: passed (WER and CER against {ref} within +{limits.max_wer_increase} / +{limits.max_cer_increase})")


if __name__ == "__main__":
    main()
