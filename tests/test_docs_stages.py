"""docs/pipeline.md's stage table and the README's stage list say what dvc.yaml says."""

import re
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
SECTIONS = set(yaml.safe_load((PROJECT / "params.yaml").read_text()))


def table() -> dict[str, str]:
    """stage -> its `reads` cell, in the table's order."""
    rows = re.findall(r"^\| ([a-z_]+) \| (.*?) \| .* \|$", (PROJECT / "docs/pipeline.md").read_text(), re.M)
    return {stage: reads for stage, reads in rows if stage != "stage"}


def sections_named(cell: str) -> set[str]:
    return {name.split(".")[0] for name in re.findall(r"`([a-z_.]+)`", cell)} & SECTIONS


def test_the_table_has_every_stage_in_dvc_yaml_order():
    assert list(table()) == list(STAGES)


def test_each_row_names_the_params_sections_its_stage_depends_on():
    for stage, reads in table().items():
        declared = {key.split(".")[0] for key in STAGES[stage].get("params", [])}
        assert sections_named(reads) == declared, stage


def test_the_readme_names_every_stage():
    intro = (PROJECT / "README.md").read_text().split("##")[0]
    assert [s for s in STAGES if not re.search(rf"\b{s}\b", intro)] == []
