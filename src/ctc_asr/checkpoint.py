"""Resumable training: everything a run needs to go on after being killed.

A checkpoint holds the weights, the optimizer, schedule and scaler states, the random
generators and the run's counters, and the fingerprint of the settings and data it was
made with: a run only resumes from a checkpoint of its own settings.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

FILE = "last.pt"
NOTE = "The last checkpoint of an unfinished training run (last.pt) is kept here; a rerun resumes from it.\n"


def fingerprint(**facts: Any) -> str:
    """A short hash of JSON-able facts (settings, utterance ids, lengths)."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def random_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class Checkpoints:
    """The last checkpoint of a run, in `folder`, tied to `key` (a fingerprint)."""

    def __init__(self, folder: Path, key: str):
        Path(folder).mkdir(parents=True, exist_ok=True)
        # Never empty: DVC warns about an empty output folder, and a clone restores this file with it.
        # Written only when missing: the folder may hold hard links to DVC's cache (never write into one).
        readme = Path(folder) / "README.md"
        if not readme.exists():
            readme.write_text(NOTE)
        self.path = Path(folder) / FILE
        self.key = key

    def save(self, state: dict) -> None:
        partial = self.path.with_suffix(".partial")
        torch.save({"key": self.key, **state}, partial)
        os.replace(partial, self.path)  # a kill mid-write leaves the previous checkpoint whole

    def load(self) -> dict | None:
        """The saved state, or None when there is none or it belongs to other settings."""
        if not self.path.exists():
            return None
        state = torch.load(self.path, map_location="cpu", weights_only=False)
        if state.get("key") != self.key:
            print(f"train: {self.path} was made with other settings or data; starting over")
            return None
        return state

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
