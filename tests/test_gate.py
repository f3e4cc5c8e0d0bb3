import json
import subprocess

import pytest

from ctc_asr.core.errors import UserError
from ctc_asr.evaluation import gate

LIMITS = {"wer": 0.01, "cer": 0.0}


def test_a_rise_beyond_the_limit_is_a_regression():
    problems = gate.regressions({"wer": 0.30, "cer": 0.1}, {"wer": 0.32, "cer": 0.1}, LIMITS)
    assert len(problems) == 1 and problems[0].startswith("wer rose from 0.3 to 0.32")


def test_a_rise_within_the_limit_and_a_fall_pass():
    assert gate.regressions({"wer": 0.30, "cer": 0.1}, {"wer": 0.31, "cer": 0.05}, LIMITS) == []


def test_any_rise_fails_a_zero_limit():
    assert gate.regressions({"wer": 0.3, "cer": 0.1}, {"wer": 0.3, "cer": 0.1001}, LIMITS) != []


def test_no_baseline_is_not_a_regression_but_no_workspace_value_is():
    assert gate.regressions({}, {"wer": 0.3, "cer": 0.1}, LIMITS) == []
    problems = gate.regressions({"wer": 0.3}, {}, LIMITS)
    assert [p.split(":")[0] for p in problems] == ["wer", "cer"]


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True, capture_output=True)


def test_metrics_at_reads_the_committed_file(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    (tmp_path / "m.json").write_text(json.dumps({"wer": 0.5}))
    git(tmp_path, "add", "m.json")
    git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "m.json").write_text(json.dumps({"wer": 0.4}))
    monkeypatch.chdir(tmp_path)
    assert gate.metrics_at("HEAD", "m.json") == {"wer": 0.5}
    assert gate.metrics_here("m.json") == {"wer": 0.4}
    assert gate.metrics_at("HEAD", "other.json") == {}  # no baseline yet
    with pytest.raises(UserError, match="no-such-ref: not a git commit"):
        gate.metrics_at("no-such-ref", "m.json")


def test_table_shows_both_sides_and_the_change():
    lines = gate.table({"wer": 0.5}, {"wer": 0.4, "cer": 0.2}, ["wer", "cer"], "main").splitlines()
    assert lines[0] == "| metric | main | workspace | change |"
    assert lines[2] == "| wer | 0.5 | 0.4 | -0.1000 |" and lines[3] == "| cer | None | 0.2 | - |"


def test_wer_and_cer_are_gated_unless_cer_is_the_headline():
    assert gate.gated_rates({"wer": 0.3, "cer": 0.1}) == ["wer", "cer"]  # eval.json before headlines: WER
    assert gate.gated_rates({"wer": 0.9, "cer": 0.1, "headline": "cer"}) == ["cer"]


def test_a_phone_run_is_gated_by_its_per():
    assert gate.gated_rates({"per": 0.25, "greedy": {"per": 0.25}, "utterances": 9}) == ["per"]
    assert gate.regressions({"per": 0.25}, {"per": 0.3}, {"per": 0.02}) == [
        "per rose from 0.25 to 0.3 (+0.0500, allowed +0.02)"]
    # text without spaces: a WER that jumps (a word is a whole utterance) fails nothing; CER still does
    old, new = {"wer": 0.8, "cer": 0.10}, {"wer": 1.0, "cer": 0.10, "headline": "cer"}
    names = gate.gated_rates(new)
    assert gate.regressions(old, new, {n: LIMITS[n] for n in names}) == []
    assert gate.regressions(old, {**new, "cer": 0.2}, {n: LIMITS[n] for n in names}) != []
