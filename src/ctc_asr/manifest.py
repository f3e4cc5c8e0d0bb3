"""The one shape every source produces: audio files in a folder plus one manifest table.

A manifest is a TSV with one row per utterance. `path` is relative to the manifest's
folder, so the folder can be moved or cached as a whole. Sources may add columns
(an accent, a dialect region); later stages carry them along untouched.
"""

import csv
from pathlib import Path

import pandas as pd

from .errors import UserError

COLUMNS = ["id", "split", "speaker", "path", "seconds", "sample_rate", "text"]
SPLITS = ("train", "test")
_TSV = dict(sep="\t", quoting=csv.QUOTE_NONE, escapechar="\\")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write any of the pipeline's TSV tables (tabs and newlines in text are escaped)."""
    frame.to_csv(path, index=False, **_TSV)


def read_table(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (run the stage that writes it)")
    return pd.read_csv(path, keep_default_na=False, dtype={"id": str, "speaker": str, "text": str}, **_TSV)


def write(frame: pd.DataFrame, path: Path) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"manifest lacks columns {missing}")
    write_table(frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]], path)


def read(path: Path) -> pd.DataFrame:
    frame = read_table(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: manifest lacks columns {missing}")
    return frame
