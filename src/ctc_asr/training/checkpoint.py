"""Resumable training: everything a run needs to go on after being killed.

A checkpoint holds the weights, the optimizer, schedule and scaler states, the random
generators, the run's counters and its history so far, and the fingerprint (key) of the
settings and data it was made with: a run only resumes from a checkpoint of its own settings.

A checkpoint may come from elsewhere (a shared folder, a copied workspace), so loading it must
not run code: the key is read from a small JSON file beside it before anything else, and the
state is read with `torch.load(weights_only=True)`, which unpickles tensors and plain values
only (so the random states are kept as tensors and lists).
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ctc_asr.core.errors import writing
from ctc_asr.core.outputs import clear_leftovers, replacing, write_json

FILE, KEY_FILE = "last.pt", "last.json"


def fingerprint(**facts: Any) -> str:
    """A short hash of JSON-able facts (settings, utterance ids, lengths)."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def random_state() -> dict:
    name, keys, position, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(),
             "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def plain(value: Any) -> Any:
    """`value` with numpy scalars (a sum of clip lengths, say) as Python's: what weights_only reads back."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


class Checkpoints:
    """The last checkpoint of a run, in `folder`, tied to `key` (a fingerprint)."""

    def __init__(self, folder: Path, key: str):
        self.folder = Path(folder)
        self.path, self.key_path = self.folder / FILE, self.folder / KEY_FILE
        self.key = key

    def save(self, state: dict) -> None:
        """Written beside and renamed: a kill mid-write leaves the previous checkpoint whole."""
        clear_leftovers(self.path)
        # the key first: beside another run's last.pt it fails the key inside that file
        write_json(self.key_path, {"key": self.key})
        with replacing(self.path) as partial, writing(partial):  # a full disk: one line, the old one kept
            torch.save(plain({"key": self.key, **state}), partial)

    def load(self) -> dict | None:
        """The saved state, or None when there is none, it belongs to other settings, or it holds more
        than tensors and plain values (refused unread: unpickling it could run code)."""
        if not self.path.exists():
            return None
        if self._saved_key() != self.key:
            print(f"train: {self.path} was made with other settings or data; starting over")
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as error:  # unreadable, or unsafe to unpickle: either way, start over
            print(f"train: {self.path} is not a checkpoint of tensors and plain values ({type(error).__name__}); "
                  "not loaded, starting over")
            return None
        return state if state.get("key") == self.key else None

    def _saved_key(self) -> str | None:
        try:
            return json.loads(self.key_path.read_text())["key"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        for path in (self.path, self.key_path):
            path.unlink(missing_ok=True)

