"""Waveform augmentation: each kind does what it says, measured; draws are seeded, worker-count free, and off is off."""

import importlib.util
import io
import random
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import soundfile as sf
from transformers import Wav2Vec2Config

from ctc_asr.core import params
from ctc_asr.core.errors import UserError
from ctc_asr.core.params import AugmentParams
from ctc_asr.data.filters import frames_needed
from ctc_asr.network.batches import audio_batch, length_batches
from ctc_asr.network.geometry import output_frames, samples_for_frames
from ctc_asr.training import effects
from ctc_asr.training.augment import KINDS, Augmenter, Recordings, active, planned_lengths
from ctc_asr.training.loader import PlannedBatches, loader

RATE = 16000
CONFIG = Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                        conv_dim=[8] * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, mask_time_prob=0.0)


@pytest.fixture
def off(defaults) -> AugmentParams:
    """params.yaml's augment section: every kind off."""
    return defaults.augment


def only(cfg: AugmentParams, kind: str, **changes) -> AugmentParams:
    """`cfg` with `kind` enabled for every clip, and `changes` to it."""
    return cfg.replace(**{kind: getattr(cfg, kind).replace(**{"enabled": True, "probability": 1.0, **changes}).model_dump()})


def voiced(seconds: float, pitch: float = 150.0, seed: int = 0) -> np.ndarray:
    """Speech-like audio: a harmonic tone under a syllable-rate envelope, a little noise."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * pitch * h * t) / h for h in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    noise = 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.2 * tone * envelope + noise).astype(np.float32)


@pytest.fixture
def speech(make_store):
    """Eight training clips of 0.5-2.2 s, 16-bit as encode stores them, with 12-label transcripts."""
    clips = [voiced(0.5 + 0.25 * k, 120 + 15 * k, k) for k in range(8)]
    labels = [np.arange(1, 13) % 7 + 1 for _ in clips]
    return make_store(clips, labels, dtype="int16")


def augmenter(cfg, store, seed=0) -> Augmenter:
    return Augmenter.of(cfg, store, np.arange(len(store)), CONFIG, seed)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    return 10 * np.log10(effects.power(clean) / effects.power(noisy - clean))


def band_energy(samples: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    frequencies = np.fft.rfftfreq(len(samples), 1 / RATE)
    return float(spectrum[(frequencies >= low) & (frequencies < high)].sum())


def peak_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[np.argmax(spectrum)])


# --- each effect, measured


@pytest.mark.parametrize("factor", [0.9, 1.1, 1.037])
def test_speed_changes_length_and_pitch_by_the_factor(factor):
    tone = np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE).astype(np.float32)
    faster = effects.speed(tone, factor, RATE)
    assert len(faster) == round(RATE / factor)
    assert peak_frequency(faster) == pytest.approx(440 * factor, abs=2)


def test_speed_one_is_the_clip_itself():
    clip = voiced(0.5)
    assert effects.speed(clip, 1.0, RATE) is clip


@pytest.mark.parametrize("color, slope", [("white", 0), ("pink", -1), ("brown", -2)])
def test_generated_noise_has_its_colours_spectral_slope(color, slope):
    noise = effects.colored_noise(2**16, color, np.random.default_rng(0))
    spectrum = np.abs(np.fft.rfft(noise))[1:] ** 2
    frequencies = np.arange(1, len(spectrum) + 1)
    fitted = np.polyfit(np.log(frequencies), np.log(spectrum), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.1)


def test_noise_is_added_at_the_snr_asked():
    clip, noise = voiced(1.0), effects.colored_noise(RATE, "pink", np.random.default_rng(1))
    for snr in (-5.0, 0.0, 12.5, 30.0):
        assert snr_db(clip, effects.add_at_snr(clip, noise, snr)) == pytest.approx(snr, abs=0.01)
    silent = np.zeros(100, np.float32)
    assert effects.add_at_snr(silent, noise[:100], 10) is silent


def test_reverberation_keeps_the_length_and_the_words_in_place():
    clip = np.zeros(RATE, np.float32)
    clip[5000] = 1.0
    response = effects.room_response(0.5, (5.0, 4.0, 3.0), (1.0, 1.0, 1.5), (3.5, 2.5, 1.2), RATE)
    wet = effects.reverberate(clip, response)
    assert len(wet) == len(clip) and np.argmax(np.abs(wet)) == 5000  # the direct sound where the click was
    # echoes after it; before it, only the ringing of pyroomacoustics' zero-phase high-pass and fractional delays
    assert np.abs(wet[5200:]).max() > 0.01 and np.sum(wet[:4955] ** 2) < 0.01 * np.sum(wet**2)


def decay_seconds(response: np.ndarray) -> float:
    """RT60 from the Schroeder curve's fall from -5 to -25 dB (T20), times 3."""
    energy = np.cumsum(response[::-1].astype(np.float64) ** 2)[::-1]
    curve = 10 * np.log10(energy / energy[0])
    return 3 * (np.argmax(curve <= -25) - np.argmax(curve <= -5)) / RATE


def test_simulated_rooms_echo_about_as_long_as_asked():
    measured = {rt60: decay_seconds(effects.room_response(rt60, (6.0, 5.0, 3.0), (1.5, 1.0, 1.6), (4.0, 3.5, 1.2), RATE))
                for rt60 in (0.2, 0.4, 0.8)}
    assert measured[0.2] < measured[0.4] < measured[0.8]
    for asked, got in measured.items():  # image sources echo a little longer than Sabine's formula says
        assert 0.7 * asked < got < 1.6 * asked, measured


def test_a_room_too_large_for_the_echo_gets_the_shortest_its_walls_allow():
    response = effects.room_response(0.05, (10.0, 10.0, 3.5), (2.0, 2.0, 1.5), (8.0, 7.0, 1.5), RATE)
    assert np.isfinite(response).all() and decay_seconds(response) < 0.3


def test_the_telephone_band_removes_what_lies_outside_it():
    white = effects.colored_noise(4 * RATE, "white", np.random.default_rng(2))
    phone = effects.band_pass(white, 300, 3400, RATE)
    assert len(phone) == len(white)
    assert band_energy(phone, 3600, RATE / 2) < 0.005 * band_energy(white, 3600, RATE / 2)
    assert band_energy(phone, 3400, RATE / 2) < 0.02 * band_energy(white, 3400, RATE / 2)
    assert band_energy(phone, 0, 250) < 0.02 * band_energy(white, 0, 250)
    assert band_energy(phone, 500, 3000) > 0.95 * band_energy(white, 500, 3000)


@pytest.mark.parametrize("codec", ["mp3", "opus"])
@pytest.mark.parametrize("kbps", [8, 16, 32, 64])
def test_a_codec_round_trip_keeps_length_and_alignment(codec, kbps):
    clip = voiced(1.3, seed=3)
    decoded = effects.codec_round_trip(clip, codec, kbps, RATE)
    assert len(decoded) == len(clip) and decoded.dtype == np.float32
    lags = np.arange(-300, 301)
    match = [np.dot(np.roll(decoded, -lag), clip) for lag in lags]
    assert abs(lags[int(np.argmax(match))]) <= 2  # not delayed (LAME's 1,105 samples below ~40 kbps are taken off)
    assert 1 < snr_db(clip, decoded) < 40  # changed, and still the clip
    assert effects.power(decoded) == pytest.approx(effects.power(clip), rel=0.5)  # at the clip's own level


@pytest.mark.parametrize("codec, kbps", [("mp3", 8), ("mp3", 24), ("mp3", 64), ("opus", 8), ("opus", 32), ("opus", 96)])
def test_the_codec_runs_at_about_the_bit_rate_asked(codec, kbps):
    noise = 0.1 * np.random.default_rng(4).standard_normal(5 * RATE).astype(np.float32)
    container, subtype = effects.CODECS[codec]
    encoded = io.BytesIO()
    sf.write(encoded, noise, RATE, format=container, subtype=subtype,
             compression_level=effects.compression_level(codec, kbps, RATE),
             **({"bitrate_mode": "CONSTANT"} if codec == "mp3" else {}))
    measured = len(encoded.getvalue()) * 8 / 5 / 1000
    assert 0.6 * kbps < measured < 1.5 * kbps + 2


def test_clipping_cuts_the_share_asked_flat_and_leaves_the_rest():
    clip = voiced(1.0, seed=5)
    for share in (0.01, 0.05, 0.2):
        cut = effects.clipped(clip, share)
        bound = np.abs(cut).max()
        assert np.mean(np.abs(clip) >= bound) == pytest.approx(share, abs=0.002)
        kept = np.abs(clip) < bound
        assert np.array_equal(cut[kept], clip[kept]) and np.all(np.abs(cut) <= bound)


def test_gain_is_recorded_at_16_bits():
    clip = voiced(1.0, seed=6)  # peaks near -6 dBFS
    loud = effects.gained(clip, 20.0)
    steps = loud * 32768
    assert np.array_equal(steps, np.round(steps)) and loud.max() == pytest.approx(32767 / 32768)
    assert np.mean(np.abs(loud) >= 32767 / 32768) > 0.2  # clipped at full scale
    quiet = effects.gained(clip, -70.0)
    assert len(np.unique(quiet)) < 20  # a few 16-bit steps are left of the clip
    assert np.array_equal(effects.gained(clip, 0.0), effects.gained(effects.gained(clip, 0.0), 0.0))


# --- the augmenter: its draws, what it reads, and the batch plan


def test_every_kind_is_off_by_default_and_off_builds_nothing(off, speech):
    assert not active(off) and not active(None)
    assert all(not getattr(off, kind).enabled for kind in KINDS)
    assert augmenter(off, speech) is None


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "speed"])
def test_every_other_kind_keeps_each_clips_length_and_changes_it(off, speech, kind):
    clips = augmenter(only(off, kind), speech).batch(np.arange(len(speech)), seed=3)
    for i, clip in enumerate(clips):
        stored = speech.audio(i).astype(np.float32) / 32768
        assert clip.dtype == np.float32 and len(clip) == len(stored) and not np.array_equal(clip, stored)


@pytest.mark.parametrize("source", ["white", "pink", "brown", "babble", "files"])
def test_noise_of_every_source_is_added_within_the_snr_range(off, speech, source, tmp_path):
    folder = None
    if source == "files":
        folder = tmp_path / "noise"
        (folder / "sub").mkdir(parents=True)
        rng = np.random.default_rng(7)
        sf.write(folder / "hum.wav", 0.1 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 50), 8000)  # shorter, other rate
        sf.write(folder / "sub" / "fan.flac", 0.1 * rng.standard_normal((3 * 44100, 2)), 44100)  # stereo
        (folder / "notes.txt").write_text("not audio")
        folder = str(folder)
    cfg = only(off, "noise", sources=[source], folder=folder, snr_db=(5.0, 15.0))
    clips = augmenter(cfg, speech).batch(np.arange(len(speech)), seed=4)
    measured = [snr_db(speech.audio(i).astype(np.float32) / 32768, clip) for i, clip in enumerate(clips)]
    assert all(5 - 0.01 <= m <= 15 + 0.01 for m in measured), measured
    assert np.ptp(measured) > 1  # drawn, not fixed


def test_noise_recordings_are_read_at_the_stores_rate_from_a_random_place(tmp_path):
    tone = np.sin(2 * np.pi * 1000 * np.arange(5 * 48000) / 48000)
    sf.write(tmp_path / "tone.wav", 0.3 * tone, 48000)
    recordings = Recordings(str(tmp_path), RATE, "augment.noise.folder")
    stretches = [recordings.stretch(0, 8000, np.random.default_rng(seed)) for seed in range(3)]
    assert all(len(s) == 8000 for s in stretches)
    assert peak_frequency(stretches[0]) == pytest.approx(1000, abs=3)  # resampled: 1 kHz stays 1 kHz
    assert not np.allclose(stretches[0], stretches[1])


def test_a_folder_without_audio_or_with_a_bad_file_is_one_line(tmp_path):
    with pytest.raises(UserError, match="holds no audio files"):
        Recordings(str(tmp_path), RATE, "augment.noise.folder")
    with pytest.raises(UserError, match="is not a folder"):
        Recordings(str(tmp_path / "missing"), RATE, "augment.noise.folder")
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really")
    with pytest.raises(UserError, match=r"broken\.wav"):
        Recordings(str(tmp_path), RATE, "augment.noise.folder")


def test_measured_impulse_responses_are_used_when_named(off, speech, tmp_path):
    response = np.zeros(4000)
    response[100], response[2100] = 1.0, 0.6  # the direct sound, and one echo 2,000 samples later
    sf.write(tmp_path / "echo.wav", response, RATE, subtype="FLOAT")
    clips = augmenter(only(off, "reverb", folder=str(tmp_path)), speech).batch(np.array([5]), seed=0)
    dry = speech.audio(5).astype(np.float32) / 32768
    expected = dry + 0.6 * np.concatenate([np.zeros(2000, np.float32), dry[:-2000]])
    np.testing.assert_allclose(clips[0], expected, atol=1e-5)


def test_same_seed_same_clips_and_the_global_generators_are_left_alone(off, speech):
    everything = off.replace(**{kind: getattr(off, kind).replace(enabled=True, probability=0.7).model_dump()
                                for kind in KINDS})
    rows = np.arange(len(speech))
    np.random.seed(5)
    random.seed(5)
    expected = (np.random.rand(3), random.random())
    np.random.seed(5)
    random.seed(5)
    first = augmenter(everything, speech).batch(rows, seed=11)
    assert (np.random.rand(3).tolist(), random.random()) == (expected[0].tolist(), expected[1])
    again = augmenter(everything, speech).batch(rows, seed=11)
    other = augmenter(everything, speech).batch(rows, seed=12)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(first, other))


def test_the_probability_is_the_share_of_clips_changed(off, speech):
    cfg = only(off, "gain", probability=0.3, db=(-6.0, -3.0))
    changed = 0
    for seed in range(40):
        clips = augmenter(cfg, speech).batch(np.arange(len(speech)), seed)
        changed += sum(not np.array_equal(c, speech.audio(i).astype(np.float32) / 32768) for i, c in enumerate(clips))
    assert changed / (40 * len(speech)) == pytest.approx(0.3, abs=0.06)


def test_speed_draws_kaldis_factors_or_a_continuous_range(off, speech):
    rows = np.array([7] * 60)  # the longest clip, far from its transcript's limit
    length = len(speech.audio(7))
    kaldi = {len(c) for c in augmenter(only(off, "speed"), speech).batch(rows, seed=1)}
    assert kaldi == {round(length / f) for f in (0.9, 1.0, 1.1)}
    continuous = [len(c) for c in augmenter(only(off, "speed", continuous=True), speech).batch(rows, seed=1)]
    assert len(set(continuous)) > 30 and round(length / 1.1) <= min(continuous) <= max(continuous) <= round(length / 0.9)


def test_no_clip_is_sped_up_past_the_frames_its_transcript_needs(off, make_store):
    # 0.4 s gives 19 frames of this geometry; transcripts needing 17, 19 and 21 frames (21: already infeasible)
    labels = [np.arange(17), np.arange(19), np.concatenate([np.arange(19), [0, 1]])]
    store = make_store([voiced(0.4, seed=k) for k in range(3)], labels, dtype="int16")
    assert output_frames(CONFIG, 6400) == 19 and [frames_needed(x) for x in labels] == [17, 19, 21]
    cfg = only(off, "speed", factors=[1.5])  # asks for 0.27 s, 13 frames: infeasible for all three
    clips = augmenter(cfg, store).batch(np.arange(3), seed=0)
    frames = [int(output_frames(CONFIG, len(c))) for c in clips]
    # sped up exactly as far as each transcript allows: to the fewest samples that give the frames it needs
    assert frames[:2] == [17, 19] and [len(c) for c in clips[:2]] == [samples_for_frames(CONFIG, f) for f in (17, 19)]
    assert len(clips[2]) == 6400  # too short for its transcript already: not sped up at all
    slower = augmenter(only(off, "speed", factors=[0.8]), store).batch(np.array([2]), seed=0)[0]
    assert output_frames(CONFIG, len(slower)) >= 21  # slowing down is always allowed, and here it helps


def test_the_batch_plan_holds_the_budget_whatever_speed_draws(off, make_store):
    rng = np.random.default_rng(8)
    clips = [voiced(rng.uniform(0.3, 2.0), seed=k) for k in range(40)]
    store = make_store(clips, [[1, 2, 3]] * 40, dtype="int16")
    budget = 4 * RATE
    for cfg in (only(off, "speed"), only(off, "speed", factors=[0.8, 1.2], continuous=True)):
        augment = augmenter(cfg, store)
        lengths = store.index["audio_length"].to_numpy()
        planned = planned_lengths(cfg, lengths)
        assert (planned >= lengths / min(cfg.speed.factors)).all()
        for step, batch in enumerate(length_batches(planned, budget, rng)):
            actual = [len(c) for c in augment.batch(batch, seed=step)]
            assert len(actual) * max(actual) <= budget
    for cfg in (off, only(off, "noise"), only(off, "speed", factors=[1.0, 1.2]), None):  # no slowing: the plan as it was
        assert planned_lengths(cfg, lengths) is lengths


def test_planned_batches_are_the_same_for_any_worker_count_and_after_a_resume(off, speech):
    cfg = off.replace(**{kind: getattr(off, kind).replace(enabled=True, probability=0.5).model_dump() for kind in KINDS})
    plan = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6, 7]), np.array([1, 6])]

    def batches(workers, first_step=0):
        planned = PlannedBatches(speech, np.arange(len(speech)), plan[first_step:], CONFIG, multiple=800, seed=3,
                                 first_step=first_step, augmenter=augmenter(cfg, speech, seed=3))
        return list(loader(planned, workers, False, seed=3))

    runs, resumed = [batches(0), batches(2)], batches(0, first_step=2)
    for one, other in [*zip(runs[0], runs[1]), *zip(runs[0][2:], resumed)]:
        assert one.keys() == other.keys()
        for key in one:
            assert one[key].equal(other[key]), key
    plain = PlannedBatches(speech, np.arange(len(speech)), plan, CONFIG, multiple=800, seed=3)
    assert not runs[0][0]["input_values"].equal(plain[0]["input_values"])  # augmented, not as stored


def test_without_an_augmenter_a_batch_is_built_as_before(speech):
    plan = [np.array([0, 3, 5])]
    batch = PlannedBatches(speech, np.arange(len(speech)), plan, CONFIG, multiple=800, seed=3)[0]
    before = audio_batch(speech, plan[0], CONFIG, 800)
    for key, value in before.items():
        assert batch[key].equal(value), key


def test_the_rooms_are_drawn_once_from_the_seed(off, speech):
    cfg = only(off, "reverb", rooms=3)
    first, again, other = (augmenter(cfg, speech, seed).rooms for seed in (0, 0, 1))
    assert len(first) == 3 and all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


def test_what_the_sample_rate_rules_out_is_one_line(off, make_store):
    store = make_store([voiced(0.5)], [[1]], dtype="int16")
    with pytest.raises(UserError, match=r"augment\.band\.high_hz: 9000\.0 Hz is not below half the sample rate"):
        augmenter(only(off, "band", high_hz=(3000.0, 9000.0)), store)
    unwritable = mock.patch.object(effects.sf, "write", side_effect=sf.LibsndfileError(0, "no"))
    with pytest.raises(UserError, match="cannot encode opus at 16000 Hz") as raised, unwritable:
        augmenter(only(off, "codec", formats=["opus"]), store)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("change, says", [
    ({"noise": {"snr_db": [30, 5]}}, "augment.noise: snr_db: [30.0, 5.0] is not a range"),
    ({"noise": {"sources": ["white", "files"]}}, "augment.noise: sources: files needs folder"),
    ({"noise": {"folder": "noise"}}, "augment.noise: folder: noise is named but sources lack files"),
    ({"band": {"low_hz": [200, 4000]}}, "augment.band: low_hz [200.0, 4000.0] must lie below high_hz"),
    ({"speed": {"factors": [0.9, 0]}}, "augment.speed.factors.1"),
    ({"clipping": {"share": [0.1, 1.0]}}, "augment.clipping.share.1"),
    ({"codec": {"formats": ["aac"]}}, "augment.codec.formats.0"),
    ({"gain": {"probability": 1.5}}, "augment.gain.probability"),
])
def test_bad_augment_params_are_named(defaults, change, says):
    raw = defaults.model_dump()
    for kind, values in change.items():
        raw["augment"][kind].update(values)
    with pytest.raises(UserError, match=f"^params: {says}".replace("[", r"\[").replace("]", r"\]")):
        params.parse(raw)


def test_the_train_stage_warns_of_a_folder_dvc_yaml_does_not_list(off, tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("train_stage", Path(__file__).resolve().parents[1] / "stages/train.py")
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "noise").mkdir()
    cfg = only(off, "noise", sources=["files"], folder=str(tmp_path / "noise"))
    (tmp_path / "dvc.yaml").write_text("stages:\n  train:\n    deps:\n      - stages/train.py\n")
    stage.warn_of_untracked_folders(cfg)
    assert "augment.noise.folder" in capsys.readouterr().err
    (tmp_path / "dvc.yaml").write_text("stages:\n  train:\n    deps:\n      - noise\n")  # relative to the project
    stage.warn_of_untracked_folders(cfg)
    stage.warn_of_untracked_folders(off)
    assert capsys.readouterr().err == ""
