import pandas as pd
import pytest

from ctc_asr.data.target import Target
from ctc_asr.evaluation.analysis import PREDICTION_COLUMNS, analyse


@pytest.fixture
def test_split():
    return pd.DataFrame({
        "id": ["u1", "u2", "u3", "u4"], "speaker": ["s1", "s1", "s2", "s2"], "seconds": [1.0, 3.0, 5.0, 1.5],
        "dialect_region": ["dr1", "dr2", "dr1", "dr2"], "text": ["a cat", "the dog ran", "a b c d", "hello"],
    })


def test_analysis_has_every_table(test_split):
    result = analyse(test_split, ["a cat", "the dog run", "a b", "hallo"], [2, 4], ["speaker", "dialect_region", "accent"], 5,
                     Target("words"))
    assert list(result.predictions.columns) == PREDICTION_COLUMNS
    assert result.predictions["hypothesis"].tolist() == ["a cat", "the dog run", "a b", "hallo"]
    assert result.predictions["errors"].tolist() == [0, 1, 2, 1]
    assert set(result.groups) == {"duration", "speaker", "dialect_region"}  # no accent column: no accent group
    durations = result.groups["duration"].set_index("duration")
    assert durations["utterances"].to_dict() == {"0-2s": 2, "2-4s": 1, "4+s": 1}
    assert durations.loc["4+s", "wer"] == 0.5
    regions = result.groups["dialect_region"].set_index("dialect_region")
    assert regions.loc["dr1", "wer"] == pytest.approx(2 / 6, abs=1e-4)
    assert result.totals["wer"] == pytest.approx(4 / 10, abs=1e-4)


def test_top_errors_list_words_and_characters(test_split):
    result = analyse(test_split, ["a bat", "the dog ran", "a b c d", "hello"], [2], [], 3, Target("words"))
    assert result.top_errors.values.tolist() == [["word", "substitution", "cat", "bat", 1],
                                                 ["char", "substitution", "c", "b", 1]]
    assert result.confusions.values.tolist() == [["c", "b"]]


@pytest.mark.parametrize(("setting", "train_texts", "rate"), [
    ("auto", ["hello world", "a cat sat"], "wer"),
    ("auto", ["今天天气很好", "我们去公园", "he said"], "cer"),
    ("wer", ["今天天气很好"], "wer"),     # asked for: kept
    ("cer", ["hello world"], "cer"),
])
def test_the_headline_rate_is_cer_for_text_written_without_spaces(setting, train_texts, rate):
    assert Target("words").rates(setting, train_texts) == [rate, "cer" if rate == "wer" else "wer"]
    assert Target("phones").rates(setting, train_texts) == ["per"]
