"""What the end-to-end tests share: the tiny project (TINY), copied into a temporary git repository and run
through `dvc` as a user would, and that project's first `dvc repro`, run once for the whole session.

A full `dvc repro`, tiny as it is, costs most of a minute (four stages import torch and transformers), so the
tests that start from a finished run copy the session's (`tiny_copy`) instead of running their own.
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
# Each sentence has a letter of its own, so every dev and test transcript has one that training
# never saw: such clips are scored as they are, never dropped.
OWN_LETTERS = "àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ"
SENTENCES = [f"Sentence {k} says {letter} aloud." for k, letter in enumerate(OWN_LETTERS)]
TINY = {
    "data": {"synthetic": {"sentences": "sentences.txt", "test_sentences": 6, "dev_sentences": 3, "train_speakers": 3,
                           "dev_speakers": 1, "test_speakers": 2, "utterances_per_speaker": 3,
                           "engine_speakers": 0}},
    "model": {"scratch": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
                          "conv_dim": [8] * 7, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 2}},
    "train": {"epochs": 2, "batch_seconds": 6, "warmup_steps": 1, "log_every": 1, "eval_every": 2, "eval_utterances": 3},
    "decode": {"alpha": [0.3, 0.8], "beta": [0.0, 2.0]},
}


def merge(base: dict, update: dict) -> dict:
    return {k: merge(base[k], v) if isinstance(v, dict) else v for k, v in update.items()} | {
        k: v for k, v in base.items() if k not in update
    }


def project_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT, capture_output=True, text=True, check=True).stdout.split()
    # Results of the last run are not part of the project's source.
    return [f for f in listed if f != "dvc.lock" and not f.startswith("metrics/") and (PROJECT / f).is_file()]


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(repo / "src"), DVC_NO_ANALYTICS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def set_params(repo: Path, update: dict) -> None:
    path = repo / "params.yaml"
    path.write_text(yaml.safe_dump(merge(yaml.safe_load(path.read_text()), update), sort_keys=False))


def error_lines(stderr: str) -> list[str]:
    """The stage's error report: one line, and no traceback (progress bars aside)."""
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


def project_copy(repo: Path, *updates: dict, files: dict[str, str] | None = None) -> Path:
    """The project copied into the empty folder `repo`, params.yaml changed by `updates` in turn, `files`
    written beside, all committed to a new git repository."""
    for name in project_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, repo / name)
    for update in updates:
        set_params(repo, update)
    for name, text in (files or {}).items():
        (repo / name).write_text(text, encoding="utf-8")
    run(repo, "git", "init", "-q")
    commit(repo, "tiny")
    return repo


def commit(repo: Path, message: str) -> None:
    """Everything in `repo`'s workspace committed (an empty commit where nothing changed)."""
    run(repo, "git", "add", "-A")
    run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message, "--allow-empty")


def settled(repo: Path) -> None:
    """Outputs up to date with params.yaml (a test before may have left them for other values)."""
    run(repo, sys.executable, "-m", "dvc", "repro")


def tiny_run(shared: Path) -> tuple[Path, str]:
    """The tiny project after its first `dvc repro`, in `shared`/tiny-run, and that repro's output: built by the
    first test process that asks, under a lock, and reused by every other (pytest-xdist's workers share `shared`)."""
    base, output = shared / "tiny-run", shared / "tiny-run.out"
    with open(shared / "tiny-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not output.exists():
            shutil.rmtree(base, ignore_errors=True)  # a build that failed in another process
            base.mkdir()
            project_copy(base, TINY, files={"sentences.txt": "\n".join(SENTENCES) + "\n"})
            output.write_text(run(base, sys.executable, "-m", "dvc", "repro").stdout)
    return base, output.read_text()


def tiny_copy(base: Path, folder: Path) -> Path:
    """A copy of the finished tiny run `base` in the empty `folder`: git history, DVC cache and run-cache, and the
    workspace's outputs hard-linked to that cache as in the original (cp -a keeps links within what it copies)."""
    subprocess.run(["cp", "-a", f"{base}/.", str(folder)], check=True)
    return folder
