"""Your own recordings: a CSV, TSV or JSONL file with `path` and `text` columns.

Optional `speaker` and `split` columns (split is train, dev or test; rows without one are
train; with no dev rows at all, `data.dev_speakers` training speakers become dev), and a
column of space-separated phones for the phone target (`data.manifest.phones_column`). Paths
are relative to the manifest file's folder, or absolute. Columns named otherwise are read under
our names by `data.manifest.columns` (ours: the file's), and NeMo's manifests (JSON lines, often
named .json: audio_filepath, text, duration, offset) as they are.

A row with an `offset` (seconds) is a segment of its file: `duration` seconds from there (to the
end without one), read alone by encode. A duration without an offset is NeMo's length of the
whole file, which is read whole.
"""

import json
from pathlib import Path

import pandas as pd

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import ManifestParams
from ctc_asr.data.corpus import SPLITS, UNKNOWN_SPEAKER, is_split

# NeMo names its JSON-lines manifests .json.
READERS = {".csv": dict(sep=","), ".tsv": dict(sep="\t"), ".jsonl": dict(lines=True), ".json": dict(lines=True)}
NEMO_PATH = "audio_filepath"  # NeMo's name for path; its text, offset and duration are ours already


def read(path: Path, phones: str | None = None, columns: dict[str, str] | None = None) -> pd.DataFrame:
    if not path.is_file():
        raise UserError(f"data.manifest.path: {path} is not a file")
    options = READERS.get(path.suffix.lower())
    if options is None:
        raise UserError(f"data.manifest.path: {path.name} is not .csv, .tsv, .jsonl or .json (JSON lines)")
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
    frame = _renamed(frame, path, columns or {})
    missing = [c for c in ("path", "text", *([phones] if phones else [])) if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))})")
    return frame.fillna("")


def _renamed(frame: pd.DataFrame, path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """`frame` with the file's columns under our names: `columns` (ours: the file's), NeMo's path unasked."""
    if "path" not in columns and "path" not in frame.columns and NEMO_PATH in frame.columns:
        columns = {**columns, "path": NEMO_PATH}
    absent = [f"{ours}: {theirs}" for ours, theirs in columns.items() if theirs not in frame.columns]
    if absent:
        raise UserError(f"data.manifest.columns: {path} has no column(s) {', '.join(absent)} "
                        f"(has: {', '.join(map(str, frame.columns))})")
    replaced = [ours for ours in columns if ours in frame.columns and ours not in columns.values()]
    return frame.drop(columns=replaced).rename(columns={theirs: ours for ours, theirs in columns.items()})


def _seconds(row: dict, column: str, path: Path, number: int) -> float | None:
    value = row.get(column, "")
    if value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{path}: row {number}: {column} must be seconds, got {value!r}") from None


def candidates(cfg: ManifestParams):
    path = Path(cfg.path)
    frame = read(path, cfg.phones_column, cfg.columns)
    for number, row in enumerate(frame.to_dict("records"), start=1):
        split = str(row.get("split") or "train")
        if not is_split(split):
            raise UserError(f"{path}: row {number}: split must be one of {', '.join(SPLITS)} or test_<name> "
                            f"(another test set), got {split!r}")
        audio = Path(str(row["path"]))
        source = audio if audio.is_absolute() else path.parent / audio
        # The id is the path as listed, so a clip listed twice is caught as a duplicate; a segment's names its stretch.
        clip = "/".join(part for part in audio.parts if part not in ("/", ".", ".."))  # stays inside audio/
        offset = _seconds(row, "offset", path, number)
        duration = None if offset is None else _seconds(row, "duration", path, number)
        stretch = "" if offset is None else f"@{offset}" + ("" if duration is None else f"+{duration}")
        yield dict(
            id=clip + stretch, split=split, speaker=str(row.get("speaker") or UNKNOWN_SPEAKER),
            text=str(row["text"]), source=source, dest=f"{split}/{clip}",
            **({} if offset is None else {"offset": offset, "duration": duration}),
            **({"phones": str(row[cfg.phones_column])} if cfg.phones_column else {}),
        )
