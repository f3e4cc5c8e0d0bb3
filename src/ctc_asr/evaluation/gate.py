"""A regression gate over error rates: which metrics rose by more than their allowed margin since a git ref."""

import json
import subprocess
from pathlib import Path

from ctc_asr.core.errors import UserError


def metrics_at(ref: str, path: str) -> dict:
    """The JSON metrics file `path` as committed at git `ref`; empty when `ref` has none (no baseline yet)."""
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True).returncode:
        raise UserError(f"{ref}: not a git commit, branch or tag here")
    shown = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else {}


def metrics_here(path: str) -> dict:
    if not Path(path).is_file():
        raise UserError(f"{path}: not in the workspace (run dvc repro first)")
    return json.loads(Path(path).read_text())


def gated_rates(metrics: dict) -> list[str]:
    """The rates a change is judged by: PER for a phone recogniser; else WER and CER, or CER alone where
    evaluate made it the headline (text written without spaces, whose WER only counts utterances wholly
    right: noise, not a measure)."""
    if "per" in metrics:
        return ["per"]
    return ["cer"] if metrics.get("headline") == "cer" else ["wer", "cer"]


def regressions(old: dict, new: dict, limits: dict[str, float]) -> list[str]:
    """A line for each metric of `limits` that rose from `old` to `new` by more than its limit."""
    problems = []
    for name, limit in limits.items():
        before, after = old.get(name), new.get(name)
        if after is None:
            problems.append(f"{name}: not in the workspace's metrics")
        elif before is not None and after - before > limit + 1e-12:
            problems.append(f"{name} rose from {before} to {after} (+{after - before:.4f}, allowed +{limit})")
    return problems


def table(old: dict, new: dict, names: list[str], ref: str) -> str:
    """Markdown: each metric at `ref`, in the workspace, and the change."""
    lines = [f"| metric | {ref} | workspace | change |", "| --- | --- | --- | --- |"]
    for name in names:
        before, after = old.get(name), new.get(name)
        change = f"{after - before:+.4f}" if None not in (before, after) else "-"
        lines.append(f"| {name} | {before} | {after} | {change} |")
    return "\n".join(lines)
