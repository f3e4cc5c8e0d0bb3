"""The corpus table every source produces: one row per utterance, audio paths beside it.

`path` is relative to the table's folder, so the folder can be moved or cached as a whole.
Sources may add columns (an accent, a dialect region); later stages carry them along.
"""

from pathlib import Path

import pandas as pd

from . import tables
from .errors import UserError

COLUMNS = ["id", "split", "speaker", "path", "seconds", "sample_rate", "text"]


def write(frame: pd.DataFrame, path: Path) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"corpus table lacks columns {missing}")
    tables.write(frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]], path)


def read(path: Path) -> pd.DataFrame:
    frame = tables.read(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: corpus table lacks columns {missing}")
    return frame
