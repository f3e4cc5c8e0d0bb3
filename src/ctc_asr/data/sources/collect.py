"""Bring the items a source lists into the manifest, checking each one on the way.

A source lists candidates: dicts with id, split, speaker, text (plus any extra columns),
`dest` (a path under audio/) and either `source` (a file of the user's) or `data` (encoded
audio bytes, written to `dest`, which keeps the format's suffix). A candidate cut out of a long
`source` recording has `offset` and `duration` (seconds; duration None: to the recording's end),
checked against the recording and kept as columns for encode. Each is checked for what
makes a clip unusable (missing, empty, unreadable, silent, far too long, no transcript)
under the `data.on_error` policy; the good ones become manifest rows.

A `source` file is read where it is (its absolute path in the manifest) unless
`data.copy_audio` asks for a copy under audio/; either way the manifest records its size
and MD5, so a changed file changes the manifest and reruns what depends on it. The checks
run on `data.workers` processes; rows and rejects come out in the order listed.
"""

import hashlib
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ctc_asr.core.errors import BadInput, require_regular_file, writing
from ctc_asr.core.outputs import replacing
from ctc_asr.core.parallel import ordered_map
from ctc_asr.data.audio import probe
from ctc_asr.data.corpus import COLUMNS
from ctc_asr.data.rejects import Outcome, Rejects, attempt

# Seconds a segment may run past the end of its recording and be cut there, as Kaldi's extract-segments allows.
MAX_OVERSHOOT = 0.5


@dataclass(frozen=True)
class Admission:
    out_dir: Path
    reject_over: float
    copy: bool


def md5(path: Path) -> str:
    """The MD5 of `path`. The segments of a recording come one after another: it is hashed once (per worker)."""
    status = path.stat()
    return _md5(path, status.st_size, status.st_mtime_ns)


@lru_cache(maxsize=4)
def _md5(path: Path, size: int, modified_ns: int) -> str:  # size and time in the key: a changed file is hashed again
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "md5").hexdigest()


def _segment(path: Path, offset: float, duration: float | None, recording: float) -> dict:
    """offset and duration of a segment of a recording `recording` seconds long; BadInput if it lies outside it."""
    end = recording if duration is None else offset + duration
    if not 0 <= offset < end:  # NaN too
        raise BadInput(path, "empty or negative segment", f"offset {offset} s, duration {duration} s")
    if offset >= recording or end > recording + MAX_OVERSHOOT:
        raise BadInput(path, "segment past the end of the recording", f"{offset}-{end} s of {recording:.3f} s")
    # Rounded to the microsecond (under a sample at any rate): 3.5 - 1.2 is 2.3, not 2.3000000000000003.
    return {"offset": offset, "duration": round(min(end, recording) - offset, 6)}


def _admit(candidate: dict, how: Admission) -> dict:
    if not str(candidate["text"]).strip():
        raise BadInput(candidate.get("source", candidate["id"]), "empty transcript")
    dest = Path("audio") / candidate["dest"]
    target = how.out_dir / dest
    if "data" in candidate:
        target.parent.mkdir(parents=True, exist_ok=True)
        with writing(target):
            target.write_bytes(candidate["data"])
        checked = target
    else:
        checked = Path(candidate["source"]).absolute()
        require_regular_file(checked)  # probe would call a folder or a device "missing"
    try:
        info = probe(checked)
        cut = _segment(checked, candidate["offset"], candidate["duration"], info.duration) if "offset" in candidate else {}
        seconds = cut.get("duration", info.duration)
        if seconds > how.reject_over:
            raise BadInput(checked, "longer than data.reject_over_seconds", f"{seconds:.1f} s > {how.reject_over} s")
    except BadInput:
        if "data" in candidate:  # a source's copy is made after the checks, and may be another segment's
            target.unlink(missing_ok=True)
        raise
    digest = md5(checked)
    # Another segment of the recording copied it already (the same bytes, not just the same name).
    copied = target.is_file() and md5(target) == digest
    if "source" in candidate and how.copy and not copied:
        # Renamed in whole: another worker may be copying the same recording for another of its segments.
        with replacing(target) as temporary, writing(target):
            shutil.copyfile(checked, temporary)
    path = checked if "source" in candidate and not how.copy else dest
    extra = {k: v for k, v in candidate.items() if k not in ("source", "data", "dest")}
    return {**extra, **cut, "path": path.as_posix(), "seconds": round(seconds, 4), "sample_rate": info.samplerate,
            "size": checked.stat().st_size, "md5": digest}


def _check(how: Admission, item: tuple[dict, bool]) -> tuple[str, Outcome]:
    candidate, duplicate = item
    if duplicate:
        return candidate["id"], (None, (str(candidate.get("source", candidate["id"])), "duplicate id", ""))
    return candidate["id"], attempt(_admit, candidate, how)


def _marked(candidates: Iterable[dict]) -> Iterator[tuple[dict, bool]]:
    # Decided here, in listing order, so that the first of two clips with one id is the one kept.
    seen = set()
    for candidate in candidates:
        yield candidate, candidate["id"] in seen
        seen.add(candidate["id"])


def tallied(candidates: Iterable[dict], splits: Counter) -> Iterator[dict]:
    """The candidates, each counted in `splits` by its split as it goes by (collect consumes them lazily)."""
    for candidate in candidates:
        splits[candidate["split"]] += 1
        yield candidate


def collect(candidates: Iterable[dict], out_dir: Path, rejects: Rejects, reject_over: float, copy: bool,
            workers: int = 1, total: int | None = None) -> pd.DataFrame:
    _md5.cache_clear()  # a file may have changed since an earlier call; workers fork from here
    checked = ordered_map(partial(_check, Admission(out_dir, reject_over, copy)), _marked(candidates), workers)
    with tqdm(checked, total=total, desc="collect", unit="utt") as progress:  # closed on an error: its line ends
        rows = [row for item_id, outcome in progress if (row := rejects.settle(item_id, outcome)) is not None]
    return pd.DataFrame(rows, columns=None if rows else COLUMNS)
