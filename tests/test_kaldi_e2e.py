"""End to end: `dvc repro` on a Kaldi recipe's data folders, a NeMo manifest and a manifest with its own column names.

Kaldi's train folder and NeMo's manifest cut their utterances out of long recordings (segments,
offset/duration): encode reads each segment alone, and the store holds just those samples. A
wav.scp whose entries are commands stops the download stage with one line.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from e2e import TINY, error_lines, project_copy, run, set_params
from test_kaldi import make_recipe

pytestmark = pytest.mark.e2e

RATE = 16000
WORDS = "yes no up down left right on off stop go".split()


def recording(path: Path, seconds: float, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 0.1, RATE, format="FLAC")
    return path


def kaldi(folder: Path) -> dict:
    return {"source": "kaldi", "kaldi": {"root": str(make_recipe(folder)), "dev_dir": None}}


def nemo(folder: Path) -> dict:
    """A talk per speaker, 6 s, cut into three utterances; NeMo's keys plus the speaker and split it lacks."""
    lines = []
    for number, (speaker, split) in enumerate([("ann", "train"), ("bob", "train"), ("cy", "train"), ("dee", "test")]):
        recording(folder / "talks" / f"{speaker}.flac", 6.0, number)
        for k in range(3):
            lines.append({"audio_filepath": f"talks/{speaker}.flac", "offset": 2.0 * k, "duration": 1.75,
                          "text": f"{WORDS[number + k]} {WORDS[k]}", "speaker": speaker, "split": split})
    (folder / "manifest.json").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return {"source": "manifest", "manifest": {"path": str(folder / "manifest.json")}}


def renamed_columns(folder: Path) -> dict:
    """A clip per row, its columns named as another tool named them."""
    rows = ["file\tsentence\tclient_id\tsubset"]
    for number, (speaker, subset) in enumerate([("ann", "train"), ("bob", "train"), ("cy", "train"), ("dee", "test")]):
        for k in range(2):
            recording(folder / "clips" / f"{speaker}{k}.flac", 1.5 + 0.1 * k, 10 * number + k)
            rows.append(f"clips/{speaker}{k}.flac\t{WORDS[number + k]} {WORDS[k]}\t{speaker}\t{subset}")
    (folder / "list.tsv").write_text("\n".join(rows) + "\n")
    columns = {"path": "file", "text": "sentence", "speaker": "client_id", "split": "subset"}
    return {"source": "manifest", "manifest": {"path": str(folder / "list.tsv"), "columns": columns}}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("kaldi"), {**TINY, "train": {**TINY["train"], "epochs": 1}})


@pytest.mark.parametrize("layout", [kaldi, nemo, renamed_columns])
def test_a_layout_is_read_in_place_and_kaldis_runs_every_stage(repo, tmp_path, layout):
    """Kaldi's folders go through every stage; the others as far as encode (what follows reads only the store)."""
    corpus = tmp_path / "corpus"
    set_params(repo, {"data": {"dev_speakers": 1, **layout(corpus)}})
    run(repo, sys.executable, "-m", "dvc", "repro", *([] if layout is kaldi else ["encode"]))

    raw = pd.read_csv(repo / "data/raw/manifest.tsv", sep="\t", keep_default_na=False)
    assert all(Path(path).is_relative_to(corpus) for path in raw["path"]) and not (repo / "data/raw/audio").exists()
    report = json.loads((repo / "metrics/download.json").read_text())
    assert set(report["utterances"]) == {"train", "dev", "test"} and report["rejected"] == {}
    index = pd.read_csv(repo / "data/encoded/index.tsv", sep="\t", keep_default_na=False).set_index("id")
    assert sorted(index.index) == sorted(raw["id"])
    if "offset" in raw:  # each segment's samples alone, not its recording's
        cut = raw[raw["offset"] != ""].set_index("id")
        assert len(cut) and cut["duration"].astype(float).tolist() == pytest.approx(index.loc[cut.index, "seconds"])
    if layout is kaldi:  # scored, and per spk2gender's column by evaluate
        counts = json.loads((repo / "metrics/eval/summary.json").read_text())
        assert counts["utterances"] == (raw["split"] == "test").sum() > 0
        assert (repo / "metrics/eval/by_gender.tsv").is_file()


def test_a_command_in_wav_scp_stops_download_with_one_line(repo, tmp_path):
    work = tmp_path / "work"  # a copy of the project's code and params: the stage writes there, not in repo
    for folder in ("stages", "src"):
        shutil.copytree(repo / folder, work / folder)
    shutil.copy(repo / "params.yaml", work / "params.yaml")
    data = kaldi(tmp_path / "corpus")
    (Path(data["kaldi"]["root"]) / "data/train/wav.scp").write_text("rec-spk1 sox audio/spk1.flac -t wav - |\n")
    set_params(work, {"data": data})
    done = run(work, sys.executable, "stages/download.py", check=False)
    assert done.returncode == 2
    [error] = error_lines(done.stderr)
    assert "rec-spk1 is a command" in error and "reads audio files only" in error
