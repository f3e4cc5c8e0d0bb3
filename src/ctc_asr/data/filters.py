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

INFEASIBLE = "too short for its transcript"


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
        [f"shorter than {min_seconds} s", f"longer than {max_seconds} s", INFEASIBLE],
        default="",
    )
    return pd.DataFrame({
        "id": index["id"], "seconds": seconds, "frames": frames, "frames_needed": label_needs,
        "kept": reason == "", "reason": reason,
    })


def infeasible(decisions: pd.DataFrame) -> list[BadInput]:
    """The clips `decide` dropped as too short for their transcript, as bad input."""
    rows = decisions[decisions["reason"] == INFEASIBLE]
    return [BadInput(row.id, INFEASIBLE, f"{row.frames} frames < {row.frames_needed} needed") for row in rows.itertuples()]
