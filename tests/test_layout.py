"""core/layout.py is the one place output paths are spelled, and it says what dvc.yaml says."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from ctc_asr.core import layout

PROJECT = Path(__file__).resolve().parents[1]
DVC = yaml.safe_load((PROJECT / "dvc.yaml").read_text())
NOT_DVC_OUTPUTS = {layout.CHECKPOINT, layout.METRICS}  # train's resumable state; the folder of all metrics
OUTPUT_ROOTS = ("data/", "metrics/", "models/")


def _entries(items: list) -> list[str]:
    return [next(iter(i)) if isinstance(i, dict) else i for i in items]


def dvc_paths() -> set[Path]:
    """Every data, model and metrics path dvc.yaml names: deps, outs, metrics, plots, artifacts."""
    paths = set()
    for stage in DVC["stages"].values():
        for kind in ("deps", "outs", "metrics", "plots"):
            paths |= {Path(p) for p in _entries(stage.get(kind, [])) if p.startswith(OUTPUT_ROOTS)}
    for plot in DVC.get("plots", []):
        for spec in plot.values():
            paths |= {Path(p) for p in spec.get("y", {})}
    paths |= {Path(a["path"]) for a in DVC.get("artifacts", {}).values()}
    return paths


def layout_paths() -> set[Path]:
    """What layout names: its path constants, each stage's metrics, rejects and timing files, the handed-on files."""
    constants = {v for k, v in vars(layout).items() if k.isupper() and isinstance(v, Path)}
    handed_on = {c.PATH for c in vars(layout).values() if isinstance(c, type) and issubclass(c, layout.HandedOn)
                 and c is not layout.HandedOn}
    per_stage = {f(stage) for stage in DVC["stages"] for f in (layout.stage_metrics, layout.rejects, layout.timing)}
    return constants | handed_on | per_stage


def test_every_path_dvc_yaml_names_comes_from_the_layout():
    named = layout_paths()
    folders = {p for p in named if not p.suffix}
    strays = sorted(str(p) for p in dvc_paths() if p not in named and not set(p.parents) & folders)
    assert strays == [], "in dvc.yaml but not in core/layout.py"


def test_every_layout_path_is_a_dvc_output_or_dependency():
    constants = {v for k, v in vars(layout).items() if k.isupper() and isinstance(v, Path)} - NOT_DVC_OUTPUTS
    in_dvc = dvc_paths()
    # a folder that holds outputs, or a file inside an output folder, counts
    missing = sorted(str(p) for p in constants
                     if p not in in_dvc and not any(p in q.parents or q in p.parents for q in in_dvc))
    assert missing == [], "in core/layout.py but nowhere in dvc.yaml"


def test_the_handed_on_files_are_what_dvc_yaml_hands_on():
    evaluate_deps = set(DVC["stages"]["evaluate"]["deps"])
    for handed in (layout.Tuned, layout.Trained, layout.LanguageModel):
        assert str(handed.PATH) in evaluate_deps
    assert str(layout.Evaluated.PATH) in _entries(DVC["stages"]["evaluate"]["metrics"])


def _path_literals(path: Path) -> list[str]:
    """String constants in `path` that spell an output path; docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and re.match(r"(data|metrics|models)/\w", node.value)]


CODE = sorted(p for folder in ("src", "stages", "bench") for p in (PROJECT / folder).rglob("*.py")
              if p.name != "layout.py")


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(PROJECT)))
def test_no_output_path_is_spelled_outside_the_layout(path):
    assert _path_literals(path) == []


def test_the_literal_finder_finds_a_spelled_path(tmp_path):
    # guards the test above
    sample = tmp_path / "sample.py"
    sample.write_text('"""Reads data/encoded."""\nOUT = Path("metrics/eval.json")\n')
    assert _path_literals(sample) == ["metrics/eval.json"]


def test_a_handed_on_file_is_read_back_as_written(tmp_path):
    tuned = layout.Tuned(ngram=True, alpha=0.5, beta=1.0, dev_utterances=3, dev_greedy=layout.Rates(wer=0.5, cer=0.2),
                         dev_ngram=layout.Rates(wer=0.4, cer=0.1))
    tuned.write(tmp_path / "tune.json")
    assert layout.Tuned.read(tmp_path / "tune.json") == tuned
    layout.Tuned(ngram=False).write(tmp_path / "none.json")
    assert (tmp_path / "none.json").read_text() == '{\n  "ngram": false\n}\n'


def test_a_handed_on_file_missing_a_key_is_one_line(tmp_path):
    (tmp_path / "train.json").write_text('{"steps": 3}')
    with pytest.raises(layout.UserError, match=r"train.json: not what this version writes"):
        layout.Trained.read(tmp_path / "train.json")
    with pytest.raises(layout.UserError, match=r"not found \(run `dvc repro` first\)"):
        layout.Trained.read(tmp_path / "absent.json")
