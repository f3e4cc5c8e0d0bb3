"""The timit source, on a tiny tree shaped like the LDC distribution (NIST SPHERE .WAV files)."""

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
# (split, region, speaker, sentence, samples, text): every length differs so seconds can be checked per row.
UTTERANCES = [
    ("TRAIN", "DR1", "FCJF0", "SA1", 4000, "She had your dark suit in greasy wash water all year."),
    ("TRAIN", "DR1", "FCJF0", "SI1027", 4800, "Even then, if she took one step forward he could catch her."),
    ("TRAIN", "DR1", "FCJF0", "SX127", 5600, "The emperor had a mean temper."),
    ("TRAIN", "DR2", "MABC0", "SX37", 3200, "Don't ask me to carry an oily rag like that!"),
    ("TEST", "DR1", "FELC0", "SA1", 4400, "She had your dark suit in greasy wash water all year."),
    ("TEST", "DR1", "FELC0", "SI1386", 3600, "Clearly, the Marines are, Sir, coming."),
    ("TEST", "DR1", "FAKS0", "SX133", 5200, "Pizzerias are convenient for a quick lunch."),
    ("TEST", "DR1", "MXXX0", "SI1234", 2400, "Who took the Kayak?"),
]
NON_SA = [u for u in UTTERANCES if not u[3].startswith("SA")]


def make_tree(root: Path, lower: bool = False) -> Path:
    case = str.lower if lower else str
    for split, region, speaker, sentence, samples, text in UTTERANCES:
        folder = root / case(split) / case(region) / case(speaker)
        folder.mkdir(parents=True, exist_ok=True)
        tone = 0.3 * np.sin(2 * np.pi * 300 * np.arange(samples) / RATE)
        sf.write(folder / case(f"{sentence}.WAV"), tone, RATE, format="NIST", subtype="PCM_16")
        (folder / case(f"{sentence}.TXT")).write_text(f"0 {samples} {text}\n")
        (folder / case(f"{sentence}.PHN")).write_text(f"0 2000 h#\n2000 {samples} sh\n")
        (folder / case(f"{sentence}.WRD")).write_text(f"2000 {samples} {text.split()[0].lower()}\n")
    return root


def timit(root: Path, out_dir: Path, copy_audio: bool = False, **changes):
    data = DATA.replace(source="timit", dev_speakers=1, copy_audio=copy_audio,
                        timit=DATA.timit.replace(root=str(root), **changes))
    frame = download(data, out_dir, Rejects("fail"))
    return frame.set_index("id", drop=False)


def expected_id(speaker: str, sentence: str) -> str:
    return f"{speaker.lower()}_{sentence.lower()}"


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "timit")


def test_rows_carry_timit_metadata(tree, tmp_path):
    frame = timit(tree, tmp_path / "out")
    assert sorted(frame.index) == sorted(expected_id(u[2], u[3]) for u in NON_SA)
    row = frame.loc["fcjf0_si1027"]
    assert (row.split, row.speaker, row.dialect_region, row.sentence_type) == ("train", "fcjf0", "dr1", "si")
    assert row.text == "Even then, if she took one step forward he could catch her."
    assert frame.loc["mabc0_sx37", "dialect_region"] == "dr2"
    assert frame.loc["mabc0_sx37", "sentence_type"] == "sx"
    assert frame.loc["felc0_si1386", "split"] == "test"


def test_text_is_the_transcript_without_the_sample_numbers(tree, tmp_path):
    frame = timit(tree, tmp_path / "out")
    for _split, _region, speaker, sentence, _samples, text in NON_SA:
        assert frame.loc[expected_id(speaker, sentence), "text"] == text


def test_phn_and_wrd_paths_point_at_the_sibling_files(tree, tmp_path):
    frame = timit(tree, tmp_path / "out")
    row = frame.loc["fcjf0_sx127"]
    assert Path(row.phn_path) == tree / "TRAIN" / "DR1" / "FCJF0" / "SX127.PHN"
    assert Path(row.wrd_path) == tree / "TRAIN" / "DR1" / "FCJF0" / "SX127.WRD"
    assert all(Path(p).is_file() for p in [*frame["phn_path"], *frame["wrd_path"]])


@pytest.mark.parametrize("copy_audio", [False, True])
def test_audio_is_read_in_place_or_copied_and_seconds_come_from_the_file(tree, tmp_path, copy_audio):
    out = tmp_path / "out"
    frame = timit(tree, out, copy_audio=copy_audio)
    for _split, _region, speaker, sentence, samples, _text in NON_SA:
        row = frame.loc[expected_id(speaker, sentence)]
        assert row.seconds == pytest.approx(samples / RATE, abs=1e-4)
        assert row.sample_rate == RATE
        audio = out / row.path  # an absolute path stays itself
        assert audio.is_relative_to(out / "audio" if copy_audio else tree) and audio.is_file()
        data, rate = sf.read(audio)
        assert (len(data), rate) == (samples, RATE)
    assert len(list(out.rglob("*.wav"))) == (len(NON_SA) if copy_audio else 0)


def test_manifest_file_matches_the_returned_frame(tree, tmp_path):
    out = tmp_path / "out"
    frame = timit(tree, out)
    written = corpus.read(out / "manifest.tsv").set_index("id", drop=False)
    assert sorted(written.index) == sorted(frame.index)
    assert (written.loc[frame.index, "text"] == frame["text"]).all()
    assert {"dialect_region", "sentence_type", "phn_path", "wrd_path"} <= set(written.columns)


def test_keep_sa_false_drops_sa_sentences(tree, tmp_path):
    frame = timit(tree, tmp_path / "out", keep_sa=False)
    assert not frame["sentence_type"].eq("sa").any()
    assert "fcjf0_sa1" not in frame.index


def test_keep_sa_true_keeps_them_in_both_splits(tree, tmp_path):
    frame = timit(tree, tmp_path / "out", keep_sa=True)
    assert len(frame) == len(UTTERANCES)
    assert frame.loc["fcjf0_sa1", "split"] == "train" and frame.loc["felc0_sa1", "split"] == "test"
    assert frame.loc["fcjf0_sa1", "sentence_type"] == "sa"


def speakers(frame, split: str) -> set[str]:
    return set(frame.loc[frame["split"] == split, "speaker"])


def test_core_test_set_takes_the_standard_dev_speakers_from_test(tree, tmp_path):
    frame = timit(tree, tmp_path / "out", test_set="core")
    assert speakers(frame, "test") == {"felc0"}  # core test speaker
    assert speakers(frame, "dev") == {"faks0"}   # one of the standard 50 dev speakers; mxxx0 is neither
    assert speakers(frame, "train") == {"fcjf0", "mabc0"}


def test_full_test_set_holds_dev_speakers_out_of_train(tree, tmp_path):
    frame = timit(tree, tmp_path / "out", test_set="full")
    assert speakers(frame, "test") == {"felc0", "faks0", "mxxx0"}
    assert len(speakers(frame, "dev")) == 1  # data.dev_speakers
    assert speakers(frame, "dev") | speakers(frame, "train") == {"fcjf0", "mabc0"}
    assert not speakers(frame, "dev") & speakers(frame, "train")


def test_lower_case_tree_gives_the_same_manifest(tree, tmp_path):
    lower = make_tree(tmp_path / "lower", lower=True)
    upper_frame, lower_frame = timit(tree, tmp_path / "a", copy_audio=True), timit(lower, tmp_path / "b", copy_audio=True)
    same = ["id", "split", "speaker", "path", "seconds", "sample_rate", "text", "dialect_region", "sentence_type"]
    assert upper_frame[same].sort_index().equals(lower_frame[same].sort_index())
    assert (lower_frame["phn_path"] != "").all() and (lower_frame["wrd_path"] != "").all()
    assert all(Path(p).is_file() for p in lower_frame["phn_path"])


def test_corpus_one_level_down_is_found(tmp_path):
    make_tree(tmp_path / "data" / "TIMIT")
    frame = timit(tmp_path / "data", tmp_path / "out")
    assert len(frame) == len(NON_SA)


def test_converted_copies_are_ignored(tree, tmp_path):
    folder = tree / "TRAIN" / "DR1" / "FCJF0"
    sf.write(folder / "SX127.WAV.wav", np.zeros(1600), RATE, subtype="PCM_16")
    sf.write(folder / "SI1027.WAV.wav", np.zeros(1600), RATE, subtype="PCM_16")
    frame = timit(tree, tmp_path / "out")
    assert sorted(frame.index) == sorted(expected_id(u[2], u[3]) for u in NON_SA)
    assert frame.loc["fcjf0_sx127", "seconds"] == pytest.approx(5600 / RATE, abs=1e-4)


def test_root_without_train_and_test_is_rejected(tmp_path):
    (tmp_path / "empty" / "TRAIN").mkdir(parents=True)
    with pytest.raises(UserError, match=r"data\.timit\.root"):
        timit(tmp_path / "empty", tmp_path / "out")


def test_missing_root_is_rejected(tmp_path):
    with pytest.raises(UserError, match=r"data\.timit\.root") as error:
        timit(tmp_path / "nowhere", tmp_path / "out")
    assert "nowhere" in str(error.value)


def test_phones_come_from_the_phn_files_as_training_phones(tree, tmp_path):
    frame = timit(tree, tmp_path / "out")
    assert set(frame["phones"]) == {"sil sh"}  # h# -> sil (see phones.py)
    for row in frame.itertuples():
        assert Path(row.phn_path).is_file()


def test_a_broken_phn_file_is_named(tree, tmp_path):
    next(tree.rglob("SI1027.PHN")).write_text("0 100 h#\n100 200 not-a-phone\n")
    with pytest.raises(UserError, match=r"SI1027.PHN: line 2"):
        timit(tree, tmp_path / "out")


def test_core_test_set_without_the_core_speakers_stops_naming_the_fix(tree, tmp_path):
    (tree / "TEST" / "DR1" / "FELC0").rename(tree / "TEST" / "DR1" / "MYYY0")  # the tree's one core test speaker
    with pytest.raises(UserError) as error:
        timit(tree, tmp_path / "out", test_set="core")
    assert "lacks all 24 core test speakers" in str(error.value) and "data.timit.test_set: full" in str(error.value)


def test_core_test_set_with_some_core_speakers_warns_of_the_missing(tree, tmp_path, capsys):
    timit(tree, tmp_path / "out", test_set="core")
    assert "lacks 23 of the 24 core test and 49 of the 50 standard dev speakers" in capsys.readouterr().err
