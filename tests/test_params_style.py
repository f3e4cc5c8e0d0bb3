"""params.yaml is written the way `dvc exp run -S` writes it back, so that a variant's diff is its changed lines."""

import difflib
import shutil
from pathlib import Path

import pytest
from dvc.utils.hydra import apply_overrides  # what `dvc exp run -S key=value` runs on params.yaml

PROJECT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("setting", ["train.epochs=3", "ngram.order=3", "data.synthetic.seed=1"])
def test_a_set_value_changes_one_line_and_keeps_the_comments(tmp_path, setting):
    params = tmp_path / "params.yaml"
    shutil.copy(PROJECT / "params.yaml", params)
    apply_overrides(str(params), [setting])
    before, after = (PROJECT / "params.yaml").read_text().splitlines(), params.read_text().splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-"
               and not line.startswith(("+++", "---"))]
    key, value = setting.rsplit("=", 1)
    assert len(changed) == 2, changed  # one line out, one line in
    assert changed[1][1:].split("#")[0].split(":")[0].strip() == key.split(".")[-1] and value in changed[1]
    assert changed[0].split("#")[1:] == changed[1].split("#")[1:]  # its comment kept
