"""The kaldi source, on a tiny recipe folder: data/train cut from long recordings by `segments`, data/test a file each."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ctc_asr.core import params
from ctc_asr.core.errors import UserError
from ctc_asr.data import corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import download

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test
RATE = 16000
WORDS = "yes no up down left right on off stop go".split()
# Train: a recording per speaker, cut into segments (utterance, start, end); spk2gender names their genders.
TRAIN = {"spk1": [(0.2, 1.6), (2.0, 3.5), (4.0, 5.9)], "spk2": [(0.0, 1.8), (2.5, 4.0), (4.5, 6.0)],
         "spk3": [(0.5, 2.0), (2.2, 3.9), (4.1, -1)]}  # -1: to the end of the recording (6 s)
GENDERS = {"spk1": "f", "spk2": "m", "spk3": "f"}
# Test: a file per utterance (no segments), one listed by absolute path: (speaker, seconds).
TEST = {"spk8-a": ("spk8", 1.4), "spk8-b": ("spk8", 1.7), "spk9-a": ("spk9", 1.5), "spk9-b": ("spk9", 1.2)}


def noise(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 0.1


def text(number: int) -> str:
    return " ".join(WORDS[(number + k) % len(WORDS)] for k in range(2)).upper()


def write_table(path: Path, rows: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key} {value}\n" for key, value in sorted(rows.items())))


def make_recipe(root: Path) -> Path:
    """`root`/s5, a recipe folder as Kaldi's scripts leave it: audio under it, data/train and data/test; returns s5."""
    recipe = root / "s5"
    (recipe / "audio").mkdir(parents=True)
    scp, texts, utt2spk, segments = {}, {}, {}, {}
    for number, (speaker, cuts) in enumerate(TRAIN.items()):
        sf.write(recipe / "audio" / f"{speaker}.flac", noise(6.0, number), RATE, format="FLAC", subtype="PCM_16")
        scp[f"rec-{speaker}"] = f"audio/{speaker}.flac"  # relative: read from the recipe folder
        for k, (start, end) in enumerate(cuts):
            utterance = f"{speaker}-{k}"
            segments[utterance] = f"rec-{speaker} {start:.2f} {end:.2f}" if end != -1 else f"rec-{speaker} {start:.2f} -1"
            texts[utterance], utt2spk[utterance] = text(3 * number + k), speaker
    train = recipe / "data/train"
    for name, rows in [("wav.scp", scp), ("text", texts), ("utt2spk", utt2spk), ("segments", segments),
                       ("spk2gender", GENDERS)]:
        write_table(train / name, rows)
    scp, texts, utt2spk = {}, {}, {}
    for number, (utterance, (speaker, seconds)) in enumerate(TEST.items()):
        path = recipe / "audio" / f"{utterance}.wav"
        sf.write(path, noise(seconds, 10 + number), RATE, subtype="PCM_16")
        scp[utterance] = str(path) if number == 0 else f"audio/{utterance}.wav"
        texts[utterance], utt2spk[utterance] = text(number), speaker
    for name, rows in [("wav.scp", scp), ("text", texts), ("utt2spk", utt2spk)]:
        write_table(recipe / "data/test" / name, rows)
    return recipe


def kaldi(recipe: Path, out_dir: Path, on_error: str = "fail", rejects=None, **changes):
    data = DATA.replace(source="kaldi", on_error=on_error, dev_speakers=1,
                        kaldi=DATA.kaldi.replace(root=str(recipe), **{"dev_dir": None, **changes}))
    return download(data, out_dir, rejects or Rejects(on_error)).set_index("id", drop=False)


@pytest.fixture
def recipe(tmp_path):
    return make_recipe(tmp_path / "egs")


def test_segments_cut_utterances_out_of_the_recordings_and_test_files_are_whole(recipe, tmp_path):
    frame = kaldi(recipe, tmp_path / "out")
    train = [f"{speaker}-{k}" for speaker, cuts in TRAIN.items() for k in range(len(cuts))]
    assert sorted(frame.index) == sorted(train + list(TEST))
    for speaker, cuts in TRAIN.items():
        for k, (start, end) in enumerate(cuts):
            row = frame.loc[f"{speaker}-{k}"]
            assert row.path == str(recipe / "audio" / f"{speaker}.flac") and row.speaker == speaker
            assert row.gender == GENDERS[speaker] and row.split in ("train", "dev")
            assert (row.offset, row.duration) == pytest.approx((start, (6.0 if end == -1 else end) - start))
            assert row.seconds == pytest.approx(row.duration, abs=1e-4)
    test = frame[frame["split"] == "test"]
    assert sorted(test.index) == sorted(TEST) and test["offset"].isna().all()
    assert test["seconds"].tolist() == pytest.approx([seconds for _, seconds in TEST.values()])
    assert test.loc["spk9-a", "text"] == text(2) and test.loc["spk9-a", "path"] == str(recipe / "audio/spk9-a.wav")
    assert frame.loc[frame["split"] == "dev", "speaker"].nunique() == 1  # dev_dir null: one speaker held out
    written = corpus.read(tmp_path / "out" / "manifest.tsv")
    assert corpus.segments(written)[0] == (0.2, 1.4) and corpus.segments(written)[-1] is None


def test_a_dev_folder_is_the_dev_split(recipe, tmp_path):
    dev = recipe / "data/dev"
    dev.mkdir()
    for name in ("wav.scp", "text", "utt2spk"):
        rows = dict(line.split(maxsplit=1) for line in (recipe / "data/test" / name).read_text().splitlines())
        write_table(dev / name, {key: value.strip() for key, value in rows.items() if key.startswith("spk9")})
        write_table(recipe / "data/test" / name, {key: value.strip() for key, value in rows.items() if key.startswith("spk8")})
    frame = kaldi(recipe, tmp_path / "out", dev_dir="data/dev")
    assert corpus.split_counts(frame) == {"dev": 2, "test": 2, "train": 9}


def test_a_command_in_wav_scp_is_one_line_saying_how_to_convert(recipe, tmp_path):
    (recipe / "data/test/wav.scp").write_text("spk8-a sph2pipe -f wav /corpora/wsj/a.wv1 |\n")
    with pytest.raises(UserError) as error:
        kaldi(recipe, tmp_path / "out")
    message = str(error.value)
    assert "\n" not in message and "spk8-a is a command (sph2pipe -f wav /corpora/wsj/a.wv1 |)" in message
    assert "runs no commands" in message and "sox" in message and "plain wav.scp" in message


def test_an_utterance_without_audio_or_text_or_room_in_its_recording_is_bad_input(recipe, tmp_path):
    train = recipe / "data/train"
    with open(train / "text", "a") as texts:
        texts.write("spk1-9 A LINE WITHOUT A SEGMENT\nspk2-7 TOO LATE\nspk2-8 NOWHERE\n")
    with open(train / "segments", "a") as segments:
        segments.write("spk2-7 rec-spk2 7.0 8.0\n")  # past the end of a 6 s recording
        segments.write("spk2-8 rec-none 0.0 1.0\n")  # a recording wav.scp does not list
    with open(train / "utt2spk", "a") as speakers:
        speakers.write("spk2-7 spk2\nspk2-8 spk2\nspk1-9 spk1\n")
    (train / "text").write_text((train / "text").read_text().replace(f"spk3-0 {text(6)}", "spk3-0"))
    rejects = Rejects("skip")
    frame = kaldi(recipe, tmp_path / "out", on_error="skip", rejects=rejects)
    assert len(frame) == 9 + len(TEST) - 1
    reasons = dict(zip(rejects.table()["id"], rejects.table()["reason"]))
    assert reasons == {"spk1-9": "missing file", "spk2-7": "segment past the end of the recording",
                       "spk2-8": "missing file", "spk3-0": "empty transcript"}
    items = dict(zip(rejects.table()["id"], rejects.table()["item"]))
    assert items["spk1-9"] == str(train / "segments/spk1-9") and items["spk2-8"] == str(train / "wav.scp/rec-none")


def test_a_folder_lacking_a_needed_file_or_a_split_is_named(recipe, tmp_path):
    (recipe / "data/test/utt2spk").unlink()
    with pytest.raises(UserError, match=r"data\.kaldi\.test_dir: .*data/test has no utt2spk"):
        kaldi(recipe, tmp_path / "out")
    with pytest.raises(UserError, match=r"data\.kaldi\.dev_dir: .*data/dev is not a directory.*set it to null"):
        kaldi(recipe, tmp_path / "out", dev_dir="data/dev")
    with pytest.raises(UserError, match=r"data\.kaldi\.root: .* is not a directory"):
        kaldi(tmp_path / "nowhere", tmp_path / "out")


def test_a_malformed_segments_line_is_named(recipe, tmp_path):
    with open(recipe / "data/train/segments", "a") as segments:
        segments.write("spk1-5 rec-spk1 one two\n")
    with pytest.raises(UserError, match=r"segments: line 10 is not 'utterance recording start end'"):
        kaldi(recipe, tmp_path / "out")


def test_a_folder_makes_one_split_only():
    with pytest.raises(Exception, match="one split only"):
        DATA.kaldi.replace(dev_dir="data/train")
