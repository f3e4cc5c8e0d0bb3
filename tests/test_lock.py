"""The committed dvc.lock matches the code and params it was made with (what `dvc status` checks):
a commit that changed a stage's code or params without rerunning it would make everyone who pulls
the outputs from a remote rerun that stage."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SOURCE = ("src/", "stages/")  # data deps are outputs of earlier stages: absent from a fresh clone


def stale_deps(status: dict) -> dict[str, list[str]]:
    """Per stage, the code files and params that differ from dvc.lock."""
    stale = {}
    for stage, changes in status.items():
        for change in changes:
            deps = change.get("changed deps", {}) if isinstance(change, dict) else {}
            found = [f"{path}: {state}" for path, state in deps.items()
                     if path.startswith(SOURCE) or isinstance(state, dict)]  # a params file's value is a dict
            if found:
                stale[stage] = found
    return stale


def test_stale_deps_names_changed_code_and_params_only():
    status = {"train": [{"changed deps": {"src/ctc_asr/training/loop.py": "modified", "data/encoded": "deleted",
                                          "params.yaml": {"train.epochs": "modified"}}},
                        {"changed outs": {"models/ctc": "deleted"}}],
              "tune": [{"changed deps": {"models/ctc": "deleted"}}]}
    assert stale_deps(status) == {"train": ["src/ctc_asr/training/loop.py: modified",
                                            "params.yaml: {'train.epochs': 'modified'}"]}


def test_the_lock_matches_the_code_and_params_of_this_commit():
    done = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=PROJECT,
                          capture_output=True, text=True, check=True)
    stale = stale_deps(json.loads(done.stdout or "{}"))
    assert stale == {}, f"dvc.lock is stale: rerun `make repro` and commit dvc.lock: {stale}"
