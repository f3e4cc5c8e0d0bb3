import numpy as np
import pandas as pd
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

from ctc_asr import filters

SAMPLE_COUNTS = [0, 1, 5, 9, 10, 100, 319, 399, 400, 401, 719, 720, 721, 1000, 4321, 16000, 16319, 16320, 48000, 160007]


def hand_frames(n: int) -> int:
    # The conv stack has a 400-sample receptive field and a 320-sample hop.
    return 0 if n < 400 else (n - 400) // 320 + 1


def test_output_frames_matches_transformers(tiny_config):
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**tiny_config, vocab_size=5))
    reference = model._get_feat_extract_output_lengths(torch.tensor(SAMPLE_COUNTS)).numpy()
    frames = filters.output_frames(np.array(SAMPLE_COUNTS))
    big = np.array(SAMPLE_COUNTS) >= 400
    np.testing.assert_array_equal(frames[big], reference[big])
    np.testing.assert_array_equal(frames, np.maximum(reference, 0))


def test_output_frames_matches_receptive_field_arithmetic():
    assert filters.output_frames(np.array(SAMPLE_COUNTS)).tolist() == [hand_frames(n) for n in SAMPLE_COUNTS]


@pytest.mark.parametrize("n", [0, 1, 9, 100, 399])
def test_tiny_clips_give_zero_frames_not_negative(n):
    assert filters.output_frames(np.array([n]))[0] == 0


def test_one_second_gives_49_frames():
    assert filters.output_frames(np.array([16000]))[0] == 49


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
    decisions = filters.decide(index, needs, min_seconds=0.5, max_seconds=4.0)
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
    decisions = filters.decide(part, np.array([5, 5]), 0.0, 4.0)
    assert decisions["id"].tolist() == ["b", "c"]
    assert decisions["kept"].tolist() == [False, True]


def test_infeasible_clips_become_bad_input_naming_the_clip():
    from ctc_asr.errors import BadInput
    from ctc_asr.rejects import Rejects

    index = pd.DataFrame({"id": ["ok", "cramped"], "seconds": [1.0, 1.0], "audio_length": [16000, 16000]})
    decisions = filters.decide(index, np.array([10, 500]), 0.0, 10.0)
    [bad] = filters.infeasible(decisions)
    assert bad.item == "cramped" and bad.reason == filters.INFEASIBLE and "49 frames < 500" in str(bad)
    with pytest.raises(BadInput, match="cramped"):
        Rejects("fail").reject(bad.item, bad)
