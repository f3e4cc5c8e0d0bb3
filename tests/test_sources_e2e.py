"""End to end: `dvc repro` on corpora kept as people keep them, read in place, on the tiny config.

Each source's fabricated tree (the one its unit tests use) goes through the stages that read it, download to
encode: LibriSpeech's FLAC, Common Voice's MP3 (decoded by libsndfile, resampled from 48 and 32 kHz), their
speakers' sex or gender carried into the store that evaluate groups by. (The stages after encode read only the
store: tests/test_kaldi_e2e.py and tests/test_languages_e2e.py take corpora of other shapes through all of them.)
A tree lacking a split stops the download stage with one line.
"""

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from e2e import TINY, error_lines, project_copy, run, set_params, stages_run
from test_common_voice import make_language
from test_librispeech import make_tree
from test_timit import make_tree as make_timit

pytestmark = pytest.mark.e2e

MAKE = {"librispeech": make_tree, "common_voice": make_language}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("sources"), {**TINY, "train": {**TINY["train"], "epochs": 1}})


@pytest.mark.parametrize("source", list(MAKE))
def test_a_corpus_in_its_own_layout_is_read_in_place_and_encoded(repo, tmp_path, source):
    root = MAKE[source](tmp_path / "corpus")
    set_params(repo, {"data": {"source": source, "dev_speakers": 1, source: {"root": str(root)}}})
    done = run(repo, sys.executable, "-m", "dvc", "repro", "encode")
    assert stages_run(done.stdout) == ["download", "normalize", "vocab", "encode"]

    raw = pd.read_csv(repo / "data/raw/manifest.tsv", sep="\t", keep_default_na=False)
    assert all(Path(path).is_relative_to(root) for path in raw["path"]) and not (repo / "data/raw/audio").exists()
    report = json.loads((repo / "metrics/download.json").read_text())
    assert report["source"] == source and set(report["utterances"]) == {"train", "dev", "test"}
    assert report["rejected"] == {}
    index = pd.read_csv(repo / "data/encoded/index.tsv", sep="\t", keep_default_na=False)
    assert sorted(index["id"]) == sorted(raw["id"]) and (index["split"] == "test").sum() > 0
    column = {"librispeech": "sex", "common_voice": "gender"}[source]  # the source's own, in evaluate.group_by
    assert column in yaml.safe_load((repo / "params.yaml").read_text())["evaluate"]["group_by"]
    assert index.set_index("id")[column].to_dict() == raw.set_index("id")[column].to_dict()
    if source == "common_voice":  # MP3 at 48 and 32 kHz, decoded and resampled by encode
        assert set(raw["sample_rate"]) == {48000, 32000}


def without_core_speakers(folder: Path) -> dict:
    tree = make_timit(folder)
    (tree / "TEST" / "DR1" / "FELC0").rename(tree / "TEST" / "DR1" / "MYYY0")  # its one core test speaker
    return {"source": "timit", "timit": {"root": str(tree), "test_set": "core"}}


def without_dev_clean(folder: Path) -> dict:
    tree = make_tree(folder)
    shutil.rmtree(tree / "dev-clean")
    return {"source": "librispeech", "librispeech": {"root": str(tree)}}


def without_test_tsv(folder: Path) -> dict:
    language = make_language(folder)
    (language / "test.tsv").unlink()
    return {"source": "common_voice", "common_voice": {"root": str(language)}}


@pytest.mark.parametrize("broken, says", [
    (without_core_speakers, "lacks all 24 core test speakers"),
    (without_dev_clean, "has no dev-clean (the dev split)"),
    (without_test_tsv, "no test.tsv in"),
])
def test_a_corpus_lacking_a_split_stops_download_with_one_line(repo, tmp_path, broken, says):
    work = tmp_path / "work"  # a copy of the project's code and params: the stage writes there, not in repo
    for folder in ("stages", "src"):
        shutil.copytree(repo / folder, work / folder)
    shutil.copy(repo / "params.yaml", work / "params.yaml")
    set_params(work, {"data": broken(tmp_path / "corpus")})
    done = run(work, sys.executable, "stages/download.py", check=False)
    assert done.returncode == 2
    [error] = error_lines(done.stderr)
    assert says in error
