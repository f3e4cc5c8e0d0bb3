"""Bring the items a source lists into the workspace, checking each one on the way.

A source lists candidates: dicts with id, split, speaker, text (plus any extra columns),
`dest` (the path under audio/ to write) and either `source` (a file to copy) or `data`
(encoded audio bytes, with a `dest` that keeps the format's suffix). Each is checked for
what makes a clip unusable (missing, empty, unreadable, silent, far too long, no
transcript) under the `data.on_error` policy; the good ones become manifest rows.
"""

import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ..audio import probe
from ..corpus import COLUMNS
from ..errors import BadInput
from ..rejects import Rejects


def _admit(candidate: dict, out_dir: Path, reject_over: float) -> dict:
    if not str(candidate["text"]).strip():
        raise BadInput(candidate.get("source", candidate["id"]), "empty transcript")
    dest = Path("audio") / candidate["dest"]
    target = out_dir / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    if "data" in candidate:
        target.write_bytes(candidate["data"])
        checked = target
    else:
        checked = Path(candidate["source"])
    try:
        info = probe(checked)
        if info.duration > reject_over:
            raise BadInput(checked, "longer than data.reject_over_seconds", f"{info.duration:.1f} s > {reject_over} s")
    except BadInput:
        target.unlink(missing_ok=True)
        raise
    if "source" in candidate:
        shutil.copyfile(checked, target)
    extra = {k: v for k, v in candidate.items() if k not in ("source", "data", "dest")}
    return {**extra, "path": dest.as_posix(), "seconds": round(info.duration, 4), "sample_rate": info.samplerate}


def collect(candidates: Iterable[dict], out_dir: Path, rejects: Rejects, reject_over: float,
            total: int | None = None) -> pd.DataFrame:
    rows, seen = [], set()
    for candidate in tqdm(candidates, total=total, desc="collect", unit="utt"):
        if candidate["id"] in seen:
            rejects.reject(candidate["id"], BadInput(candidate.get("source", candidate["id"]), "duplicate id"))
            continue
        seen.add(candidate["id"])
        row = rejects.check(candidate["id"], _admit, candidate, out_dir, reject_over)
        if row is not None:
            rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else COLUMNS)
