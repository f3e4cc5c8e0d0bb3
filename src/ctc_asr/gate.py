"""A regression gate over error rates: which metrics rose by more than their allowed margin."""


def regressions(diff: dict[str, dict], limits: dict[str, float]) -> list[str]:
    """Problems in `diff` ({metric: {"old": x, "new": y}}, as `dvc metrics diff --json` gives
    per file) for each metric of `limits` whose increase exceeds its limit."""
    problems = []
    for name, limit in limits.items():
        entry = diff.get(name) or {}
        old, new = entry.get("old"), entry.get("new")
        if new is None:
            problems.append(f"{name}: not in the workspace's metrics (run dvc repro first)")
        elif old is not None and new - old > limit + 1e-12:
            problems.append(f"{name} rose from {old} to {new} (+{new - old:.4f}, allowed +{limit})")
    return problems
