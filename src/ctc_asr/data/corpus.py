"""The corpus table every source produces: one row per utterance, audio paths beside it.

`path` is relative to the table's folder, so the folder can be moved or cached as a whole.
Sources may add columns (an accent, a dialect region); later stages carry them along. An
utterance cut out of a longer recording has `offset` and `duration` (seconds) in it; its `path`
is the recording's, and `seconds` its own length.
"""

import hashlib
from pathlib import Path

import pandas as pd

from ctc_asr.core import tables
from ctc_asr.core.errors import UserError

COLUMNS = ["id", "split", "speaker", "path", "seconds", "sample_rate", "text"]
SPLITS = ("train", "dev", "test")
EXTRA_TEST = "test_"  # test_<name>: another test set (other voices, LibriSpeech's test-other), scored beside test


def is_split(name: str) -> bool:
    return name in SPLITS or (name.startswith(EXTRA_TEST) and name[len(EXTRA_TEST):].isidentifier())


def extra_tests(splits) -> list[str]:
    """The test_<name> splits among `splits`, sorted."""
    return sorted({s for s in splits if s.startswith(EXTRA_TEST)})
UNKNOWN_SPEAKER = "unknown"


def write(frame: pd.DataFrame, path: Path) -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"corpus table lacks columns {missing}")
    tables.write(frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]], path)


def segments(frame: pd.DataFrame) -> list[tuple[float, float] | None]:
    """Each row's (offset, duration) in its recording, in seconds, from the columns of those names
    (sources that cut utterances out of long recordings write them); None: the whole file."""
    if "offset" not in frame.columns:
        return [None] * len(frame)
    return [None if offset in ("", None) or pd.isna(offset) else (float(offset), float(duration))
            for offset, duration in zip(frame["offset"], frame["duration"])]


def split_counts(frame: pd.DataFrame, column: str = "split") -> dict[str, int]:
    return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}


def read(path: Path) -> pd.DataFrame:
    frame = tables.read(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: corpus table lacks columns {missing}")
    return frame


def hold_out_dev(frame: pd.DataFrame, speakers: int, source: str) -> pd.DataFrame:
    """`frame` with `speakers` of its training speakers moved to dev, unless it has a dev split already.

    The speakers are the first by a hash of their names: the same ones whatever the corpus's
    order, and most of them stay when speakers are added.
    """
    if (frame["split"] == "dev").any():
        return frame
    train = frame["split"] == "train"
    names = sorted(set(frame.loc[train, "speaker"]), key=lambda s: hashlib.sha256(str(s).encode()).hexdigest())
    if UNKNOWN_SPEAKER in names:
        raise UserError(f"data.source {source}: training clips without a speaker, so no dev speakers can be held out; "
                        f"name a dev split of the source or the speaker of every clip")
    if speakers >= len(names):
        raise UserError(f"data.dev_speakers: {speakers} held out of {len(names)} training speakers leaves none to train on")
    dev = train & frame["speaker"].isin(names[:speakers])
    return frame.assign(split=frame["split"].where(~dev, "dev"))


def require_splits(frame: pd.DataFrame, listed: dict[str, int], source: str) -> None:
    """One line naming a split without clips, and why: without it, tune and evaluate would read nothing and exit 0.

    `listed`: clips the source listed per split. A dev split it listed none of is left to `hold_out_dev`."""
    for split in SPLITS:
        if not (frame["split"] == split).any() and (split != "dev" or listed.get(split)):
            why = f"all {listed[split]} listed were rejected" if listed.get(split) else "the source lists none"
            raise UserError(f"data.source {source}: no {split} clips ({why}); every source must give train, dev and test")
