from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ctc_asr.core import params
from ctc_asr.core.errors import UserError
from ctc_asr.core.params import SyntheticParams
from ctc_asr.data import corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import download as source_download
from ctc_asr.data.sources import synthetic
from ctc_asr.data.sources.espeak import Espeak

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test
SENTENCES = [f"Sentence number {k} is here." for k in range(40)]


def small_cfg(**changes) -> SyntheticParams:
    fields = dict(test_sentences=10, dev_sentences=6, train_speakers=6, dev_speakers=2, test_speakers=3, utterances_per_speaker=4,
                  accents=["en", "en-us", "en-gb-x-rp"], variants=["m1", "f1", "m3", "f2"], seed=5,
                  engines={}, engine_speakers=0, unseen={})
    return DATA.synthetic.replace(**{**fields, **changes})


def test_plan_has_the_requested_counts():
    utterances = synthetic.plan(small_cfg(), SENTENCES)
    speakers = utterances.groupby("split")["speaker"].nunique()
    assert speakers.to_dict() == {"train": 6, "dev": 2, "test": 3}
    assert (utterances.groupby("speaker").size() == 4).all()
    assert len(utterances) == 11 * 4
    assert utterances["id"].is_unique


def test_plan_keeps_speakers_and_sentences_of_the_three_splits_apart():
    utterances = synthetic.plan(small_cfg(), SENTENCES)
    splits = {s: utterances[utterances["split"] == s] for s in ("train", "dev", "test")}
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        assert not set(splits[a]["speaker"]) & set(splits[b]["speaker"]), (a, b)
        assert not set(splits[a]["text"]) & set(splits[b]["text"]), (a, b)
    assert set(utterances["text"]) <= set(SENTENCES)
    assert splits["test"]["text"].nunique() <= 10 and splits["dev"]["text"].nunique() <= 6


def test_plan_speakers_are_accent_plus_variant_and_settings_in_range():
    cfg = small_cfg(jitter=0.1)
    utterances = synthetic.plan(cfg, SENTENCES)
    for row in utterances.itertuples():
        accent, variant = row.speaker.split("+")
        assert accent == row.accent and accent in cfg.accents and variant in cfg.variants
    assert utterances["words_per_minute"].between(120 * 0.9 - 1, 200 * 1.1 + 1).all()
    assert utterances["pitch"].between(0, 99).all()


def test_plan_is_reproducible_for_a_seed_and_changes_with_it():
    same = synthetic.plan(small_cfg(), SENTENCES)
    assert same.equals(synthetic.plan(small_cfg(), SENTENCES))
    assert not same.equals(synthetic.plan(small_cfg(seed=6), SENTENCES))


def test_more_speakers_than_voices_is_rejected():
    with pytest.raises(UserError, match="speakers"):
        synthetic.plan(small_cfg(train_speakers=10, test_speakers=3), SENTENCES)


@pytest.mark.parametrize("changes", [dict(test_sentences=3), dict(dev_sentences=3), dict(test_sentences=31)])
def test_too_small_sentence_pool_is_rejected(changes):
    with pytest.raises(UserError, match="utterances_per_speaker"):
        synthetic.plan(small_cfg(**changes), SENTENCES)


def test_load_sentences_skips_comments_blanks_and_duplicates(tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_text("# a comment\nFirst one.\n\n   \nSecond one.\n  First one.  \n#another\nThird.\n",
                    encoding="utf-8")
    assert synthetic.load_sentences(str(path)) == ["First one.", "Second one.", "Third."]


def test_load_sentences_missing_file_is_rejected(tmp_path):
    with pytest.raises(UserError, match=r"missing\.txt"):
        synthetic.load_sentences(str(tmp_path / "missing.txt"))


def test_bundled_harvard_sentences():
    sentences = synthetic.load_sentences("harvard")
    assert len(sentences) == 720
    assert len(set(sentences)) == len(sentences)
    assert not any(s.startswith("#") or not s for s in sentences)


def test_download_writes_flac_files_matching_the_manifest(tmp_path):
    cfg = small_cfg(train_speakers=2, dev_speakers=1, test_speakers=1, utterances_per_speaker=2)
    frame = synthetic.download(cfg, tmp_path)
    assert len(frame) == 8
    assert frame["split"].value_counts().to_dict() == {"train": 4, "dev": 2, "test": 2}
    for row in frame.itertuples():
        info = sf.info(tmp_path / row.path)
        assert not Path(row.path).is_absolute()
        assert info.samplerate == 22050 == row.sample_rate
        assert (info.format, info.subtype, info.channels) == ("FLAC", "PCM_16", 1)
        assert info.frames / info.samplerate == pytest.approx(row.seconds, abs=1e-4)
        assert row.seconds > 0.3
        samples, _ = sf.read(tmp_path / row.path)
        assert np.abs(samples).max() > 0.01


def test_two_workers_write_the_corpus_of_one_byte_for_byte(tmp_path):
    # not small_cfg's f2: it adds breath noise that differs from process to process (left out of the defaults)
    cfg = DATA.replace(source="synthetic", synthetic=small_cfg(train_speakers=3, dev_speakers=1, test_speakers=2,
                                                                   utterances_per_speaker=3, variants=["m1", "f1", "klatt"]))
    for workers in (1, 2):
        source_download(cfg.replace(workers=workers), tmp_path / f"w{workers}", Rejects("fail"))
    one, two = (sorted(p.relative_to(tmp_path / f"w{w}") for p in (tmp_path / f"w{w}").rglob("*") if p.is_file())
                for w in (1, 2))
    assert one == two and len(one) == 6 * 3 + 1
    for path in one:
        assert (tmp_path / "w1" / path).read_bytes() == (tmp_path / "w2" / path).read_bytes(), path


def test_sources_download_writes_a_readable_manifest(tmp_path):
    cfg = DATA.replace(source="synthetic", synthetic=small_cfg(train_speakers=1, dev_speakers=1, test_speakers=1,
                                                                   utterances_per_speaker=1))
    frame = source_download(cfg, tmp_path / "raw", Rejects("fail"))
    written = corpus.read(tmp_path / "raw" / "manifest.tsv")
    assert written["id"].tolist() == frame["id"].tolist()
    assert written["text"].tolist() == frame["text"].tolist()
    assert list(written.columns[: len(corpus.COLUMNS)]) == corpus.COLUMNS


def test_unknown_voice_is_rejected():
    with pytest.raises(UserError, match="xx-nowhere"):
        Espeak().set_voice("xx-nowhere+m1")


def test_unknown_variant_is_rejected_although_the_engine_would_accept_it():
    with pytest.raises(UserError, match="'zz9'"):
        Espeak().set_voice("en-us+zz9")


SYNTHESIZE_EVERY_DEFAULT_VARIANT = """
import hashlib, sys
from ctc_asr.core import params
from ctc_asr.data.sources.espeak import Espeak
engine, digest = Espeak(), hashlib.sha256()
for variant in params.load(sys.argv[1]).data.synthetic.variants:
    engine.set_voice("en-us+" + variant)
    digest.update(engine.synthesize("Glue the sheet to the dark blue background.", 160, 50).tobytes())
print(digest.hexdigest())
"""


def test_default_voices_sound_the_same_in_every_run():
    # Some eSpeak variants add random breath noise; the defaults must not, or DVC would see
    # a new corpus (and retrain) on every download.
    import subprocess
    import sys

    params_file = Path(__file__).resolve().parents[1] / "params.yaml"
    runs = [subprocess.run([sys.executable, "-c", SYNTHESIZE_EVERY_DEFAULT_VARIANT, str(params_file)], capture_output=True,
                           text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].strip()) == 64
