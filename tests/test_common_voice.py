"""The common_voice source, on a tiny language folder shaped like Mozilla's release (TSVs, clips/*.mp3)."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ctc_asr.core import params
from ctc_asr.core.errors import BadInput, UserError
from ctc_asr.data import audio
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import download

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test
# Common Voice 17's columns, in its order.
COLUMNS = ["client_id", "path", "sentence_id", "sentence", "sentence_domain", "up_votes", "down_votes", "age", "gender",
           "accents", "variant", "locale", "segment"]
# tsv: [(speaker, clip number, seconds, rate, sentence, gender, accents)]; validated.tsv is every other TSV plus its own.
CLIPS = {
    "train": [("a1f0", 1, 1.0, 48000, 'He said "hello" to me.', "male_masculine", "United States English"),
              ("a1f0", 2, 1.2, 48000, "The cat's toy is under the bed.", "male_masculine", "United States English"),
              ("b2e1", 3, 0.9, 32000, "Rain fell all night.", "", "")],
    "dev": [("c3d2", 4, 1.1, 48000, "Open the window, please.", "female_feminine", "England English")],
    "test": [("d4c3", 5, 1.3, 32000, "Where is the station?", "female_feminine", "Canadian English"),
             ("d4c3", 6, 0.8, 48000, "It's 'quite' late.", "female_feminine", "Canadian English")],
    "validated": [("e5b4", 7, 1.0, 48000, "A clip only validated.tsv lists.", "", ""),
                  ("d4c3", 8, 1.0, 48000, "A test speaker's other clip.", "", ""),      # its speaker is in test
                  ("e5b4", 9, 1.0, 48000, "Where is the station?", "", "")],          # its sentence is in test
}


def clip_name(number: int) -> str:
    return f"common_voice_en_{number:08d}.mp3"


def speaker_id(short: str) -> str:
    return hashlib.sha512(short.encode()).hexdigest()  # the shape of a real client_id


def write_tsv(path: Path, rows: list[tuple]) -> None:
    lines = ["\t".join(COLUMNS)]
    for speaker, number, _seconds, _rate, sentence, gender, accents in rows:
        values = dict(client_id=speaker_id(speaker), path=clip_name(number), sentence_id=f"s{number}", sentence=sentence,
                      up_votes="2", down_votes="0", gender=gender, accents=accents, locale="en")
        lines.append("\t".join(values.get(column, "") for column in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_language(root: Path, clips=CLIPS) -> Path:
    """`root`/cv-corpus-17.0-2024-03-15/en as the release unpacks; returns the language folder."""
    folder = root / "cv-corpus-17.0-2024-03-15" / "en"
    (folder / "clips").mkdir(parents=True)
    for rows in clips.values():
        for _speaker, number, seconds, rate, *_ in rows:
            tone = 0.3 * np.sin(2 * np.pi * (200 + 20 * number) * np.arange(int(seconds * rate)) / rate)
            sf.write(folder / "clips" / clip_name(number), tone, rate, format="MP3")
    for name in ("train", "dev", "test"):
        write_tsv(folder / f"{name}.tsv", clips[name])
    write_tsv(folder / "validated.tsv", [row for rows in clips.values() for row in rows])
    return folder


def common_voice(root: Path, out_dir: Path, on_error: str = "fail", rejects=None, **changes):
    data = DATA.replace(source="common_voice", on_error=on_error, dev_speakers=1,
                        common_voice=DATA.common_voice.replace(root=str(root), **changes))
    return download(data, out_dir, rejects or Rejects(on_error)).set_index("id", drop=False)


@pytest.fixture
def language(tmp_path):
    return make_language(tmp_path / "mozilla")


def test_soundfile_writes_and_decodes_mp3():
    assert "MP3" in sf.available_formats(), f"libsndfile {sf.__libsndfile_version__} cannot do MP3"


def test_rows_come_from_the_release_split_with_speaker_text_and_groups(language, tmp_path):
    frame = common_voice(language, tmp_path / "out")
    for split in ("train", "dev", "test"):
        rows = frame[frame["split"] == split]
        assert rows["text"].tolist() == [clip[4] for clip in CLIPS[split]]  # quotes kept as written
        assert rows["speaker"].tolist() == [speaker_id(clip[0]) for clip in CLIPS[split]]
        assert rows["id"].tolist() == [Path(clip_name(clip[1])).stem for clip in CLIPS[split]]
    row = frame.loc["common_voice_en_00000001"]
    assert (row.gender, row.accent) == ("male_masculine", "United States English")


def test_mp3_clips_are_read_in_place_and_decode_at_their_rate(language, tmp_path):
    out = tmp_path / "out"
    frame = common_voice(language, out)
    for split in ("train", "dev", "test"):
        for _speaker, number, seconds, rate, *_ in CLIPS[split]:
            row = frame.loc[Path(clip_name(number)).stem]
            assert Path(row.path) == language / "clips" / clip_name(number)
            assert row.sample_rate == rate and row.seconds == pytest.approx(seconds, abs=0.01)
            samples = audio.load(row.path, 16000)  # what encode does: decode, resample to 16 kHz
            assert len(samples) == pytest.approx(seconds * 16000, abs=160) and np.abs(samples).max() > 0.1
    assert not (out / "audio").exists()


@pytest.mark.parametrize("levels", [1, 2])
def test_the_language_folder_is_found_up_to_two_levels_down(language, tmp_path, levels):
    root = language.parents[levels - 1]
    assert len(common_voice(root, tmp_path / "out")) == 6


def test_a_root_with_two_languages_asks_for_one(language, tmp_path):
    (language.parent / "fr" / "clips").mkdir(parents=True)
    with pytest.raises(UserError, match=r"holds 2 languages \(en, fr\); point it at one"):
        common_voice(language.parent, tmp_path / "out")


def test_validated_as_train_leaves_out_the_speakers_and_sentences_of_dev_and_test(language, tmp_path, capsys):
    frame = common_voice(language, tmp_path / "out", train_tsv="validated.tsv")
    train = frame[frame["split"] == "train"]
    assert sorted(train["id"]) == sorted(Path(clip_name(n)).stem for n in (1, 2, 3, 7))
    assert not set(train["speaker"]) & set(frame.loc[frame["split"] != "train", "speaker"])
    assert "5 clips of validated.tsv left out of train" in capsys.readouterr().err  # dev's and test's own 3, 8 and 9


def test_without_a_dev_tsv_dev_speakers_are_held_out_of_train(language, tmp_path):
    frame = common_voice(language, tmp_path / "out", dev_tsv=None)
    dev = set(frame.loc[frame["split"] == "dev", "speaker"])
    assert len(dev) == 1 and dev <= {speaker_id("a1f0"), speaker_id("b2e1")}


def test_a_missing_tsv_is_named_with_its_split(language, tmp_path):
    (language / "test.tsv").unlink()
    with pytest.raises(UserError, match=r"data\.common_voice\.test_tsv: no test\.tsv in .*, so no test split") as error:
        common_voice(language, tmp_path / "out")
    assert "has: dev.tsv, train.tsv, validated.tsv" in str(error.value)


def test_an_empty_test_tsv_is_named(language, tmp_path):
    write_tsv(language / "test.tsv", [])
    with pytest.raises(UserError, match=r"data.source common_voice: no test clips \(the source lists none\)"):
        common_voice(language, tmp_path / "out")


def test_a_tsv_without_the_needed_columns_is_named(language, tmp_path):
    (language / "dev.tsv").write_text("client_id\tfile\tsentence\nx\ty.mp3\tz\n")
    with pytest.raises(UserError, match=r"dev\.tsv: missing column\(s\) path"):
        common_voice(language, tmp_path / "out")


def break_clips(language: Path) -> dict[str, str]:
    """Three bad clips (two of train's three, one of test's two), by name: the reason each must be rejected for."""
    first, *others = CLIPS["train"]
    write_tsv(language / "train.tsv", [(*first[:4], "", *first[5:]), *others])  # its sentence emptied
    (language / "clips" / clip_name(2)).unlink()
    (language / "clips" / clip_name(6)).write_bytes(b"ID3 but no frames follow")
    return {clip_name(1): "empty transcript", clip_name(2): "missing file", clip_name(6): "not readable audio"}


def test_bad_clips_are_skipped_and_counted(language, tmp_path):
    bad = break_clips(language)
    rejects = Rejects("skip")
    frame = common_voice(language, tmp_path / "out", on_error="skip", rejects=rejects)
    assert {Path(item).name: reason for item, reason in zip(rejects.table()["item"], rejects.table()["reason"])} == bad
    assert frame["id"].tolist() == [Path(clip_name(n)).stem for n in (3, 4, 5)]


@pytest.mark.parametrize("dev_tsv", ["dev.tsv", None])
def test_without_a_training_clip_left_download_says_so(language, tmp_path, dev_tsv):
    break_clips(language)
    (language / "clips" / clip_name(3)).unlink()
    with pytest.raises(UserError, match=r"no train clips \(all 3 listed were rejected\)"):
        common_voice(language, tmp_path / "out", on_error="skip", dev_tsv=dev_tsv)


def test_a_bad_clip_stops_download_naming_it(language, tmp_path):
    break_clips(language)
    with pytest.raises(BadInput, match=rf"{clip_name(1)}: empty transcript"):
        common_voice(language, tmp_path / "out")


def test_without_mp3_in_libsndfile_one_line_names_the_file_and_the_fix(language, tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "decodes_mp3", lambda: False)
    with pytest.raises(UserError) as error:
        common_voice(language, tmp_path / "out", on_error="skip")  # not bad input: no policy skips it
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(language / "clips" / clip_name(1)))
    assert "cannot decode MP3" in message and "soundfile>=0.12" in message and "libsndfile 1.1" in message


def test_tsvs_for_two_splits_are_rejected():
    with pytest.raises(ValueError, match=r"data\.common_voice TSVs: each may make one split only"):
        DATA.common_voice.replace(dev_tsv="train.tsv")
