"""Your own recordings: a CSV, TSV or JSONL file with `path` and `text` columns.

Optional `speaker` and `split` columns (split is train or test; rows without one are
train). Paths are relative to the manifest file's folder, or absolute.
"""

from pathlib import Path

import pandas as pd

from ..errors import UserError
from ..params import RecordingsParams

READERS = {".csv": dict(sep=","), ".tsv": dict(sep="\t"), ".jsonl": dict(lines=True)}


def read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise UserError(f"data.manifest.path: {path} is not a file")
    options = READERS.get(path.suffix.lower())
    if options is None:
        raise UserError(f"data.manifest.path: {path.name} is not .csv, .tsv or .jsonl")
    try:
        if "lines" in options:
            frame = pd.read_json(path, orient="records", dtype=False, **options)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, **options)
    except ValueError as error:
        raise UserError(f"{path}: cannot be parsed ({str(error).splitlines()[0]})") from None
    missing = [c for c in ("path", "text") if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))})")
    return frame.fillna("")


def candidates(cfg: RecordingsParams):
    path = Path(cfg.path)
    frame = read(path)
    for number, row in enumerate(frame.to_dict("records"), start=1):
        split = str(row.get("split") or "train")
        if split not in ("train", "test"):
            raise UserError(f"{path}: row {number}: split must be train or test, got {split!r}")
        audio = Path(str(row["path"]))
        source = audio if audio.is_absolute() else path.parent / audio
        yield dict(
            id=f"{number:06d}_{audio.stem}", split=split, speaker=str(row.get("speaker") or "unknown"),
            text=str(row["text"]), source=source, dest=f"{split}/{number:06d}{audio.suffix.lower()}",
        )
