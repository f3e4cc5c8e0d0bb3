"""TSV tables: how every table of the pipeline is written and read (tabs and newlines escaped)."""

import csv
from pathlib import Path

import pandas as pd

from ctc_asr.core.errors import UserError
from ctc_asr.core.outputs import replacing

_TSV = dict(sep="\t", quoting=csv.QUOTE_NONE, escapechar="\\")


def write(frame: pd.DataFrame, path: Path) -> None:
    with replacing(path) as temporary:
        frame.to_csv(temporary, index=False, **_TSV)


def read(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (run the stage that writes it)")
    return pd.read_csv(path, keep_default_na=False, dtype={"id": str, "speaker": str, "text": str}, **_TSV)
