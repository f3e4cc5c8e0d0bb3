from ctc_asr.gate import regressions

LIMITS = {"wer": 0.01, "cer": 0.0}


def test_a_rise_beyond_the_limit_is_a_regression():
    problems = regressions({"wer": {"old": 0.30, "new": 0.32}, "cer": {"old": 0.1, "new": 0.1}}, LIMITS)
    assert len(problems) == 1 and problems[0].startswith("wer rose from 0.3 to 0.32")


def test_a_rise_within_the_limit_and_a_fall_pass():
    assert regressions({"wer": {"old": 0.30, "new": 0.31}, "cer": {"old": 0.1, "new": 0.05}}, LIMITS) == []


def test_any_rise_fails_a_zero_limit():
    assert regressions({"wer": {"old": 0.3, "new": 0.3}, "cer": {"old": 0.1, "new": 0.1001}}, LIMITS) != []


def test_no_baseline_is_not_a_regression_but_no_workspace_value_is():
    assert regressions({"wer": {"old": None, "new": 0.3}, "cer": {"old": None, "new": 0.1}}, LIMITS) == []
    problems = regressions({"wer": {"old": 0.3, "new": None}}, LIMITS)
    assert [p.split(":")[0] for p in problems] == ["wer", "cer"]
