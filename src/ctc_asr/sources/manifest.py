"""Your own recordings: a CSV, TSV or JSONL file with `path` and `text` columns.

Optional `speaker` and `split` columns (split is train, dev or test; rows without one are
train; with no dev rows at all, `data.dev_speakers` training speakers become dev), and a
column of space-separated phones for the phone target (`data.manifest.phones_column`). Paths
are relative to the manifest file's folder, or absolute.
"""

import json
from pathlib import Path

import pandas as pd

from ..corpus import SPLITS, UNKNOWN_SPEAKER
from ..errors import UserError
from ..params import ManifestParams

READERS = {".csv": dict(sep=","), ".tsv": dict(sep="\t"), ".jsonl": dict(lines=True)}


def read(path: Path, phones: str | None = None) -> pd.DataFrame:
    if not path.is_file():
        raise UserError(f"data.manifest.path: {path} is not a file")
    options = READERS.get(path.suffix.lower())
    if options is None:
        raise UserError(f"data.manifest.path: {path.name} is not .csv, .tsv or .jsonl")
    empty = UserError(f"data.manifest.path: {path} is empty (no rows: the manifest lists no clips)")
    if path.stat().st_size == 0:
        raise empty  # pandas would say "No columns to parse from file"
    try:
        if "lines" in options:
            # Records kept as written: pandas would turn a numeric column with gaps into floats.
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            frame = pd.DataFrame(records, dtype=object)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, **options)
    except ValueError as error:
        raise UserError(f"{path}: cannot be parsed ({str(error).splitlines()[0]})") from None
    if frame.empty:  # a header alone, or blank lines: download would go on to hold dev speakers out of none
        raise empty
    missing = [c for c in ("path", "text", *([phones] if phones else [])) if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))})")
    return frame.fillna("")


def candidates(cfg: ManifestParams):
    path = Path(cfg.path)
    frame = read(path, cfg.phones_column)
    for number, row in enumerate(frame.to_dict("records"), start=1):
        split = str(row.get("split") or "train")
        if split not in SPLITS:
            raise UserError(f"{path}: row {number}: split must be one of {', '.join(SPLITS)}, got {split!r}")
        audio = Path(str(row["path"]))
        source = audio if audio.is_absolute() else path.parent / audio
        # The id is the path as listed, so a clip listed twice is caught as a duplicate.
        clip = "/".join(part for part in audio.parts if part not in ("/", ".", ".."))  # stays inside audio/
        yield dict(
            id=clip, split=split, speaker=str(row.get("speaker") or UNKNOWN_SPEAKER),
            text=str(row["text"]), source=source, dest=f"{split}/{clip}",
            **({"phones": str(row[cfg.phones_column])} if cfg.phones_column else {}),
        )
