import numpy as np
import pandas as pd
import pytest
from transformers import Wav2Vec2Config

from ctc_asr.data import filters

WAV2VEC2 = Wav2Vec2Config()  # the conv stack of every wav2vec2 checkpoint: 400-sample receptive field, 320-sample hop


def hand_frames(n: int) -> int:
    return 0 if n < 400 else (n - 400) // 320 + 1


@pytest.mark.parametrize("labels, needed", [
    ([1, 1, 2], 4), ([], 0), ([7], 1), ([1, 2, 3], 3), ([5, 5, 5], 5), ([1, 2, 1, 2], 4), ([3, 3, 4, 4], 6),
])
def test_frames_needed_counts_a_blank_between_repeats(labels, needed):
    assert filters.frames_needed(np.array(labels)) == needed


def test_decide_gives_reasons_and_keeps_the_rest():
    lengths = np.array([3200, 96000, 16000, 16000, 32000])
    index = pd.DataFrame({
        "id": ["short", "long", "infeasible", "exact", "fine"],
        "seconds": lengths / 16000, "audio_length": lengths,
    })
    needs = np.array([1, 1, 50, 49, 10])
    decisions = filters.decide(index, needs, min_seconds=0.5, max_seconds=4.0, config=WAV2VEC2)
    assert decisions["id"].tolist() == index["id"].tolist()
    assert decisions["kept"].tolist() == [False, False, False, True, True]
    reasons = decisions["reason"].tolist()
    assert "shorter" in reasons[0] and "0.5" in reasons[0]
    assert "longer" in reasons[1] and "4.0" in reasons[1]
    assert "transcript" in reasons[2]
    assert reasons[3:] == ["", ""]
    assert decisions["frames"].tolist() == [hand_frames(n) for n in lengths]
    assert decisions["frames_needed"].tolist() == needs.tolist()


def test_decide_works_on_a_slice_of_an_index():
    lengths = np.array([16000, 800, 16000])
    index = pd.DataFrame({"id": ["a", "b", "c"], "seconds": lengths / 16000, "audio_length": lengths})
    part = index.iloc[[1, 2]]
    decisions = filters.decide(part, np.array([5, 5]), 0.0, 4.0, WAV2VEC2)
    assert decisions["id"].tolist() == ["b", "c"]
    assert decisions["kept"].tolist() == [False, True]


def test_infeasible_clips_become_bad_input_naming_the_clip():
    from ctc_asr.core.errors import BadInput
    from ctc_asr.data.rejects import Rejects

    index = pd.DataFrame({"id": ["ok", "cramped"], "seconds": [1.0, 1.0], "audio_length": [16000, 16000]})
    decisions = filters.decide(index, np.array([10, 500]), 0.0, 10.0, WAV2VEC2)
    [bad] = filters.infeasible(decisions)
    assert bad.item == "cramped" and bad.reason == filters.INFEASIBLE and "49 frames < 500" in str(bad)
    with pytest.raises(BadInput, match="cramped"):
        Rejects("fail").reject(bad.item, bad)


def test_decide_counts_frames_with_the_models_own_conv_geometry():
    # one conv layer, kernel 400, stride 160: 10 ms frames instead of wav2vec2's 20 ms
    coarse = Wav2Vec2Config(conv_dim=[8], conv_kernel=[400], conv_stride=[160], num_feat_extract_layers=1)
    index = pd.DataFrame({"id": ["a"], "seconds": [1.0], "audio_length": [16000]})
    needs = np.array([80])  # more than wav2vec2's 49 frames, fewer than this stack's 98
    assert filters.decide(index, needs, 0.0, 4.0, WAV2VEC2)["kept"].tolist() == [False]
    decisions = filters.decide(index, needs, 0.0, 4.0, coarse)
    assert decisions["frames"].tolist() == [98] and decisions["kept"].tolist() == [True]


def test_the_drop_counts_have_the_same_keys_whatever_the_window():
    lengths = np.array([3200, 96000, 16000, 16000])
    index = pd.DataFrame({"id": ["short", "long", "infeasible", "fine"], "seconds": lengths / 16000, "audio_length": lengths})
    needs = np.array([1, 1, 50, 10])
    counts = [filters.dropped(filters.decide(index, needs, low, high, WAV2VEC2)) for low, high in ((0.5, 4.0), (0.1, 7.5))]
    assert counts[0] == {"too_short": 1, "too_long": 1, "infeasible": 1}
    assert counts[1] == {"too_short": 0, "too_long": 0, "infeasible": 1}  # the same keys, zeros included
    assert not any(" " in key for key in filters.DROPPED)  # a metric name on the command line, as it is
