"""The librispeech source, on a tiny tree shaped like OpenSLR's tarballs unpacked (FLAC, trans.txt, SPEAKERS.TXT)."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ctc_asr.core import params
from ctc_asr.core.errors import BadInput, UserError
from ctc_asr.data import corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import download

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test
RATE = 16000
# (subset, speaker, chapter, utterance, samples, text): every length differs so seconds can be checked per row.
UTTERANCES = [
    ("train-clean-100", "19", "198", "0000", 32000, "NORTHANGER ABBEY"),
    ("train-clean-100", "19", "198", "0001", 35200, "THIS LITTLE WORK WAS FINISHED IN THE YEAR EIGHTEEN O THREE"),
    ("train-clean-100", "26", "495", "0000", 38400, "CHAPTER ONE MISSUS RACHEL LYNDE IS SURPRISED"),
    ("train-clean-100", "26", "496", "0003", 28800, "IT WAS A PRETTY LITTLE HOUSE"),
    ("dev-clean", "84", "121123", "0000", 41600, "GO DO YOU HEAR"),
    ("dev-clean", "84", "121123", "0001", 25600, "BUT IN LESS THAN FIVE MINUTES THE STAIRCASE GROANED"),
    ("test-clean", "1089", "134686", "0000", 44800, "HE HOPED THERE WOULD BE STEW FOR DINNER"),
    ("test-clean", "1089", "134686", "0001", 22400, "STUFF IT INTO YOU HIS BELLY COUNSELLED HIM"),
    ("test-other", "1688", "142285", "0000", 48000, "THERE'S IRON THEY SAY IN ALL OUR BLOOD"),
]
SPEAKERS_TXT = """\
; Some speakers' names and sexes, as LibriSpeech's SPEAKERS.TXT has them
;ID  |SEX| SUBSET           |MINUTES| NAME
19   | F | train-clean-100  | 25.19 | Kara Shallenberg
26   | M | train-clean-100  | 25.08 | Denny Sayers
84   | F | dev-clean        |  8.02 | Christie Nowak
1089 | M | test-clean       |  5.70 | Jeff Tyler
1688 | M | test-other       |  5.35 | Michael | Two Names
"""


def utterance_id(speaker: str, chapter: str, utterance: str) -> str:
    return f"{speaker}-{chapter}-{utterance}"


def make_tree(root: Path, utterances=UTTERANCES, speakers_txt: bool = True) -> Path:
    """`root`/LibriSpeech as the tarballs unpack; returns the LibriSpeech folder."""
    corpus_folder = root / "LibriSpeech"
    for subset, speaker, chapter, utterance, samples, text in utterances:
        folder = corpus_folder / subset / speaker / chapter
        folder.mkdir(parents=True, exist_ok=True)
        noise = np.random.default_rng(samples).standard_normal(samples) * 0.1
        sf.write(folder / f"{utterance_id(speaker, chapter, utterance)}.flac", noise, RATE, format="FLAC", subtype="PCM_16")
        with open(folder / f"{speaker}-{chapter}.trans.txt", "a") as transcripts:
            transcripts.write(f"{utterance_id(speaker, chapter, utterance)} {text}\n")
    if speakers_txt:
        (corpus_folder / "SPEAKERS.TXT").write_text(SPEAKERS_TXT)
    return corpus_folder


def librispeech(root: Path, out_dir: Path, on_error: str = "fail", copy_audio: bool = False, rejects=None, **changes):
    data = DATA.replace(source="librispeech", on_error=on_error, copy_audio=copy_audio,
                        librispeech=DATA.librispeech.replace(root=str(root), **changes))
    return download(data, out_dir, rejects or Rejects(on_error)).set_index("id", drop=False)


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "openslr")


def test_rows_carry_split_speaker_chapter_sex_and_the_transcript(tree, tmp_path):
    frame = librispeech(tree, tmp_path / "out")
    default = [u for u in UTTERANCES if u[0] != "test-other"]  # one test set: test-clean by default
    assert sorted(frame.index) == sorted(utterance_id(*u[1:4]) for u in default)
    split_of = {"train-clean-100": "train", "dev-clean": "dev", "test-clean": "test"}
    for subset, speaker, chapter, utterance, samples, text in default:
        row = frame.loc[utterance_id(speaker, chapter, utterance)]
        assert (row.split, row.speaker, row.chapter, row.subset, row.text) == (split_of[subset], speaker, chapter, subset, text)
        assert row.seconds == pytest.approx(samples / RATE, abs=1e-4) and row.sample_rate == RATE
    assert frame.loc["19-198-0000", "sex"] == "F" and frame.loc["1089-134686-0001", "sex"] == "M"


def test_audio_is_read_in_place_with_size_and_md5(tree, tmp_path):
    out = tmp_path / "out"
    frame = librispeech(tree, out)
    for row in frame.itertuples():
        path = Path(row.path)
        assert path.is_absolute() and path.is_relative_to(tree) and path.name == f"{row.id}.flac"
        assert row.size == path.stat().st_size and row.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert not (out / "audio").exists()
    written = corpus.read(out / "manifest.tsv")
    assert {"subset", "chapter", "sex", "size", "md5"} <= set(written.columns)


def test_copy_audio_copies_into_the_output(tree, tmp_path):
    out = tmp_path / "out"
    frame = librispeech(tree, out, copy_audio=True)
    assert sorted(out / p for p in frame["path"]) == sorted((out / "audio").rglob("*.flac"))
    assert frame.loc["84-121123-0001", "path"] == "audio/dev-clean/84/121123/84-121123-0001.flac"


def test_the_test_subset_picks_the_one_test_set(tree, tmp_path):
    frame = librispeech(tree, tmp_path / "out", test_subset="test-other")
    assert set(frame.loc[frame["split"] == "test", "speaker"]) == {"1688"}
    assert "1089-134686-0000" not in frame.index  # test-clean is not read at all


def test_several_train_subsets_are_all_train(tmp_path):
    extra = [("train-clean-360", "14", "208", "0000", 15000, "A NEW SUBSET")]
    tree = make_tree(tmp_path / "openslr", UTTERANCES + extra)
    frame = librispeech(tree, tmp_path / "out", train_subsets=["train-clean-100", "train-clean-360"])
    assert frame.loc["14-208-0000", "split"] == "train" and frame.loc["14-208-0000", "subset"] == "train-clean-360"


@pytest.mark.parametrize("levels", [0, 1, 2])
def test_the_corpus_is_found_up_to_two_levels_down(tree, tmp_path, levels):
    root = [tree, tree.parent, tree.parent.parent][levels]
    assert len(librispeech(root, tmp_path / "out")) == len(UTTERANCES) - 1


def test_without_speakers_txt_there_is_no_sex_column(tmp_path):
    tree = make_tree(tmp_path / "openslr", speakers_txt=False)
    assert "sex" not in librispeech(tree, tmp_path / "out").columns


def test_a_missing_subset_is_named_with_its_split(tree, tmp_path):
    shutil.rmtree(tree / "dev-clean")
    with pytest.raises(UserError) as error:
        librispeech(tree, tmp_path / "out")
    message = str(error.value)
    assert "dev-clean (the dev split)" in message and "openslr.org/12" in message and "train-clean-100" in message


def test_a_root_without_any_subset_is_rejected(tmp_path):
    (tmp_path / "elsewhere" / "something").mkdir(parents=True)
    with pytest.raises(UserError, match=r"data\.librispeech\.root: none of train-clean-100, dev-clean, test-clean"):
        librispeech(tmp_path / "elsewhere", tmp_path / "out")
    with pytest.raises(UserError, match=r"is not a directory"):
        librispeech(tmp_path / "nowhere", tmp_path / "out")


def test_an_empty_test_subset_is_named(tree, tmp_path):
    shutil.rmtree(tree / "test-clean")
    (tree / "test-clean").mkdir()
    with pytest.raises(UserError, match=r"data.source librispeech: no test clips \(the source lists none\)"):
        librispeech(tree, tmp_path / "out")


def break_items(tree: Path) -> dict[str, str]:
    """Three bad items, by file name: the reason each must be rejected for."""
    chapter = tree / "train-clean-100" / "19" / "198"
    (chapter / "19-198-0001.flac").unlink()  # its transcript line stays
    sf.write(chapter / "19-198-0002.flac", np.zeros(8000), RATE, format="FLAC")  # no transcript line
    (tree / "train-clean-100" / "26" / "495" / "26-495-0000.flac").write_bytes(b"not a flac file at all")
    return {"19-198-0001.flac": "missing file", "19-198-0002.flac": "empty transcript", "26-495-0000.flac": "not readable audio"}


def test_bad_items_are_skipped_and_counted(tree, tmp_path):
    bad = break_items(tree)
    rejects = Rejects("skip")
    frame = librispeech(tree, tmp_path / "out", on_error="skip", rejects=rejects)
    assert {Path(item).name: reason for item, reason in zip(rejects.table()["item"], rejects.table()["reason"])} == bad
    assert set(frame.index) == {utterance_id(*u[1:4]) for u in UTTERANCES if u[0] != "test-other"} - {
        "19-198-0001", "26-495-0000"}


def test_a_bad_item_stops_download_naming_it(tree, tmp_path):
    break_items(tree)
    with pytest.raises(BadInput) as error:
        librispeech(tree, tmp_path / "out")
    assert "19-198-0001.flac" in str(error.value) and error.value.reason == "missing file"


def test_a_subset_in_two_splits_is_rejected():
    with pytest.raises(ValueError, match=r"data\.librispeech subsets: each may make one split only"):
        DATA.librispeech.replace(dev_subset="train-clean-100")
