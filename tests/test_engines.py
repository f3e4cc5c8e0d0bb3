"""Voices of other engines (Festival, Flite) in the synthetic corpus, and the unseen-engine test split."""

import shutil

import numpy as np
import pytest
from test_synthetic import SENTENCES, small_cfg

from ctc_asr.core.errors import UserError
from ctc_asr.data.sources import engines, synthetic

needs_flite = pytest.mark.skipif(not shutil.which("flite"), reason="needs flite (apt-get install flite)")
needs_festival = pytest.mark.skipif(not shutil.which("text2wave"), reason="needs festival (apt-get install festival)")


def test_other_engines_add_training_speakers_and_leave_espeaks_as_they_were():
    alone = synthetic.plan(small_cfg(), SENTENCES)
    mixed = synthetic.plan(small_cfg(engines={"festival": ["ked_diphone", "kal_diphone"]}, engine_speakers=3), SENTENCES)
    espeak = mixed[mixed["engine"].isna()].drop(columns=["engine", "voice"])
    assert espeak.reset_index(drop=True).astype(str).equals(alone.astype(str))
    added = mixed[mixed["engine"].notna()]
    assert set(added["split"]) == {"train"}
    assert added.groupby("speaker", sort=False)["voice"].first().tolist() == ["ked_diphone", "kal_diphone", "ked_diphone"]
    assert set(added["text"]) <= set(alone.loc[alone["split"] == "train", "text"]) | set(SENTENCES)
    assert not set(added["text"]) & set(alone.loc[alone["split"] != "train", "text"])  # test and dev sentences stay unheard


def test_engine_speakers_draw_a_pitch_and_a_vocal_tract_only_where_ranges_are_set():
    voices = dict(engines={"festival": ["ked_diphone", "kal_diphone"]}, engine_speakers=4)
    plain = synthetic.plan(small_cfg(**voices), SENTENCES)
    shaped = synthetic.plan(small_cfg(**voices, engine_pitch_hz=(90, 250), engine_tract=(0.9, 1.25)), SENTENCES)
    assert not {"pitch_hz", "tract"} & set(plain.columns)
    added = shaped[shaped["engine"].notna()]
    per_speaker = added.groupby("speaker")[["pitch_hz", "tract"]].nunique()
    assert (per_speaker == 1).all().all() and added["pitch_hz"].nunique() == 4  # one each, drawn per speaker
    assert added["pitch_hz"].between(90, 250).all() and added["tract"].between(0.9, 1.25).all()
    assert shaped.loc[shaped["engine"].isna(), ["pitch_hz", "tract"]].isna().all().all()
    espeak = shaped[shaped["engine"].isna()].drop(columns=["pitch_hz", "tract"])
    assert espeak.astype(str).equals(plain[plain["engine"].isna()].astype(str))
    with pytest.raises(ValueError, match=r"engine_tract: \[1.2, 0.9\] is not a range"):
        type(small_cfg()).model_validate(small_cfg().model_dump() | {"engine_tract": (1.2, 0.9)})


def mean_pitch(samples: np.ndarray, rate: int) -> float:
    """The median autocorrelation pitch of the voiced (loud) 64 ms frames, in Hz."""
    x, frames = samples / 32768, []
    for start in range(0, len(x) - 1024, rate // 100):
        frame = x[start:start + 1024]
        if np.sqrt(np.mean(frame ** 2)) > 0.02:
            lags = np.correlate(frame, frame, "full")[1023:]
            frames.append(rate / (rate // 500 + np.argmax(lags[rate // 500:rate // 60])))
    return float(np.median(frames))


def spectral_centroid(samples: np.ndarray, rate: int) -> float:
    power = np.abs(np.fft.rfft(samples.astype(float))) ** 2
    return float((power * np.fft.rfftfreq(len(samples), 1 / rate)).sum() / power.sum())


@needs_festival
def test_a_festival_speaker_speaks_at_the_pitch_and_with_the_vocal_tract_asked():
    voice, text = engines.engine("festival", "kal_diphone"), "The birch canoe slid on the smooth planks."
    own, rate = voice.synthesize(text, 170)
    high, high_rate = voice.synthesize(text, 170, pitch_hz=220)
    small, small_rate = voice.synthesize(text, 170, pitch_hz=220, tract=1.2)
    assert mean_pitch(own, rate) < 130 and mean_pitch(high, high_rate) == pytest.approx(220, rel=0.1)
    assert mean_pitch(small, small_rate) == pytest.approx(220, rel=0.1)  # the same pitch ...
    assert (rate, high_rate, small_rate) == (16000, 16000, 19200)
    assert len(small) / small_rate == pytest.approx(len(own) / rate, rel=0.05)  # ... and tempo, ...
    assert spectral_centroid(small, small_rate) > 1.15 * spectral_centroid(high, high_rate)  # ... higher formants


def test_unseen_voices_read_test_sentences_in_a_split_of_their_own():
    plan = synthetic.plan(small_cfg(unseen={"flite": ["awb", "rms"]}), SENTENCES)
    unseen = plan[plan["split"] == "test_unseen"]
    assert sorted(unseen["speaker"].unique()) == ["flite-awb", "flite-rms"]
    assert (unseen.groupby("speaker").size() == 4).all()
    assert not set(unseen["text"]) & set(plan.loc[plan["split"].isin(["train", "dev"]), "text"])


def test_an_engine_both_heard_in_training_and_unseen_is_refused():
    fields = small_cfg().model_dump()
    with pytest.raises(ValueError, match="unseen: flite also speaks in training"):
        type(small_cfg()).model_validate(fields | {"engines": {"flite": ["kal16"]}, "engine_speakers": 1,
                                                   "unseen": {"flite": ["awb"]}})
    with pytest.raises(ValueError, match="engine_speakers: no voices"):
        type(small_cfg()).model_validate(fields | {"engine_speakers": 2})


def test_a_missing_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(engines.shutil, "which", lambda _: None)
    with pytest.raises(UserError, match=r"the festival engine is not installed \(apt-get install festival"):
        engines.engine("festival", "ked_diphone")


@needs_flite
def test_flite_speaks_the_same_bytes_every_time_and_slower_when_asked():
    voice = engines.engine("flite", "awb")
    first, rate = voice.synthesize("The birch canoe slid on the smooth planks.", 170)
    again, _ = voice.synthesize("The birch canoe slid on the smooth planks.", 170)
    slow, _ = voice.synthesize("The birch canoe slid on the smooth planks.", 120)
    assert rate == 16000 and first.dtype == np.int16 and np.array_equal(first, again)
    assert len(slow) / len(first) == pytest.approx(170 / 120, rel=0.15)


@needs_flite
def test_an_unknown_flite_voice_is_one_line():
    with pytest.raises(UserError, match="flite has no voice 'nobody'"):
        engines.engine("flite", "nobody")


@needs_festival
def test_festival_speaks_a_diphone_voice():
    samples, rate = engines.engine("festival", "ked_diphone").synthesize("A cat sat.", 170)
    assert rate == 16000 and 0.3 < len(samples) / rate < 3 and np.abs(samples).max() > 1000


@needs_flite
def test_download_writes_the_unseen_split_with_phones(tmp_path):
    frame = synthetic.download(small_cfg(unseen={"flite": ["slt"]}, train_speakers=1, dev_speakers=1, test_speakers=1,
                                         utterances_per_speaker=2), tmp_path)
    unseen = frame[frame["split"] == "test_unseen"]
    assert len(unseen) == 2 and (tmp_path / unseen["path"].iloc[0]).is_file()
    assert all(p.strip() for p in unseen["phones"])  # eSpeak's phonemes of the text, whoever speaks it
