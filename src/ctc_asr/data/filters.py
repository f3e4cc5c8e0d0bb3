"""Which training clips to keep: a length window plus CTC feasibility.

CTC can only align a transcript if the model emits enough frames: one per label, plus a
blank between each pair of equal neighbours ("ll" in "hello"). The model's conv stack
turns samples into frames (50 a second at 16 kHz for wav2vec2's); a clip with fewer
frames than its labels need gives an infinite loss and nothing to learn from.
"""

import numpy as np
import pandas as pd
from transformers import Wav2Vec2Config

from ctc_asr.core.errors import BadInput
from ctc_asr.network.geometry import output_frames

# Why a clip is dropped: decisions.tsv gives the reason in words ("longer than 4.0 s", the window's bound
# included), metrics/filter.json counts each under a key that is the same whatever the params.
TOO_SHORT, TOO_LONG, INFEASIBLE = "shorter than", "longer than", "too short for its transcript"
DROPPED = {"too_short": TOO_SHORT, "too_long": TOO_LONG, "infeasible": INFEASIBLE}


def frames_needed(labels: np.ndarray) -> int:
    labels = np.asarray(labels)
    return len(labels) + int(np.count_nonzero(labels[1:] == labels[:-1]))


def decide(index: pd.DataFrame, label_needs: np.ndarray, min_seconds: float, max_seconds: float,
           config: Wav2Vec2Config) -> pd.DataFrame:
    """One row per utterance of `index` with `kept` and, when dropped, the `reason`;
    frames are counted with the conv geometry of `config`."""
    frames = output_frames(config, index["audio_length"].to_numpy())
    seconds = index["seconds"].to_numpy()
    reason = np.select(
        [seconds < min_seconds, seconds > max_seconds, frames < label_needs],
        [f"{TOO_SHORT} {min_seconds} s", f"{TOO_LONG} {max_seconds} s", INFEASIBLE],
        default="",
    )
    return pd.DataFrame({
        "id": index["id"], "seconds": seconds, "frames": frames, "frames_needed": label_needs,
        "kept": reason == "", "reason": reason,
    })


def dropped(decisions: pd.DataFrame) -> dict[str, int]:
    """How many clips `decide` dropped for each reason, by the reason's key in `DROPPED` (every key, zeros too)."""
    reasons = decisions["reason"].astype(str)
    return {key: int(reasons.str.startswith(words).sum()) for key, words in DROPPED.items()}


def infeasible(decisions: pd.DataFrame) -> list[BadInput]:
    """The clips `decide` dropped as too short for their transcript, as bad input."""
    rows = decisions[decisions["reason"] == INFEASIBLE]
    return [BadInput(row.id, INFEASIBLE, f"{row.frames} frames < {row.frames_needed} needed") for row in rows.itertuples()]
