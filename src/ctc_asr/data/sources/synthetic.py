"""An English speech corpus synthesised offline with eSpeak NG, and voices of other engines.

A speaker is an accent and a voice variant with its own base rate and pitch; each
utterance jitters both a little. `engines` adds training speakers of another kind: a voice of
Festival or Flite (built from recordings of real speakers) at its own rate. `unseen` speaks the
test sentences with voices of an engine no training clip uses: the split test_unseen, scored
beside test, so that a model that learnt one engine rather than speech shows it.
Test speakers and sentences are drawn first, dev ones next: neither appears in train or in the
other, so dev and test WER both measure generalisation to new voices and text.
Audio stays at each engine's own rate (eSpeak: 22,050 Hz) so that resampling runs as for real data, in
FLAC (lossless, about half the bytes of WAV).
eSpeak's output depends on what the engine spoke before (see espeak.py), so each speaker's
utterances are spoken in order by a process of their own, forked from one that never spoke:
the corpus is byte-for-byte the same for any number of workers (`data.workers`).
"""

import multiprocessing
from functools import partial
from importlib import resources
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from tqdm import tqdm

from ctc_asr.core.errors import UserError, writing
from ctc_asr.core.params import SyntheticParams
from ctc_asr.data.sources.engines import NEUTRAL_WORDS_PER_MINUTE, engine
from ctc_asr.data.sources.espeak import Espeak


def load_sentences(spec: str) -> list[str]:
    """`harvard` for the bundled Harvard sentences, else a UTF-8 file with one sentence a line."""
    if spec == "harvard":
        text = resources.files(__package__).joinpath("harvard.txt").read_text()
    else:
        path = Path(spec)
        if not path.is_file():
            raise UserError(f"data.synthetic.sentences: {path} is not a file")
        text = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    return list(dict.fromkeys(line for line in lines if line and not line.startswith("#")))


def plan(cfg: SyntheticParams, sentences: list[str]) -> pd.DataFrame:
    """Decide who says what, deterministically from cfg.seed: one row per utterance."""
    rng = np.random.default_rng(cfg.seed)
    voices = list(product(cfg.accents, cfg.variants))
    # test first, then dev, then train: each split's speakers and sentences are its own
    speakers = {"test": cfg.test_speakers, "dev": cfg.dev_speakers, "train": cfg.train_speakers}
    sentence_counts = {"test": cfg.test_sentences, "dev": cfg.dev_sentences, "train": len(sentences)}
    if sum(speakers.values()) > len(voices):
        raise UserError(
            f"data.synthetic: {sum(speakers.values())} speakers asked for, but accents x variants gives only {len(voices)}"
        )
    order = rng.permutation(len(sentences))
    pools, start = {}, 0
    for split, count in sentence_counts.items():
        pools[split], start = order[start:start + count], start + count
        if len(pools[split]) < cfg.utterances_per_speaker:
            raise UserError(
                f"data.synthetic: the {split} pool has {len(pools[split])} sentences, fewer than "
                f"utterances_per_speaker ({cfg.utterances_per_speaker}); {len(sentences)} sentences in all, "
                f"test_sentences={cfg.test_sentences}, dev_sentences={cfg.dev_sentences}"
            )
    picked = rng.choice(len(voices), sum(speakers.values()), replace=False)
    splits = [split for split, count in speakers.items() for _ in range(count)]
    rows = []
    for split, voice_index in zip(splits, picked):
        accent, variant = voices[voice_index]
        speaker = f"{accent}+{variant}"
        base_rate = rng.uniform(*cfg.words_per_minute)
        base_pitch = rng.uniform(*cfg.pitch)
        for sentence in rng.choice(pools[split], cfg.utterances_per_speaker, replace=False):
            jitter = 1 + rng.uniform(-cfg.jitter, cfg.jitter, size=2)
            rows.append(dict(
                id=f"{speaker}-{sentence:03d}", split=split, speaker=speaker, accent=accent,
                text=sentences[sentence],
                words_per_minute=round(base_rate * jitter[0]), pitch=int(np.clip(base_pitch * jitter[1], 0, 99)),
            ))
    # drawn after eSpeak's speakers: without other engines the corpus is what it was
    rows += _other_engines(cfg, rng, pools["train"], sentences)
    rows += _unseen(cfg, rng, pools["test"], sentences)
    return pd.DataFrame(rows)


def _other_engines(cfg: SyntheticParams, rng: np.random.Generator, pool: np.ndarray, sentences: list[str]) -> list[dict]:
    """engine_speakers training speakers, the engines' voices in turn, each at its own base rate (and pitch and
    vocal tract, where their ranges are set)."""
    voices = [(name, voice) for name, listed in cfg.engines.items() for voice in listed]
    rows = []
    for k in range(cfg.engine_speakers):
        name, voice = voices[k % len(voices)]
        speaker, base_rate = f"{name}-{voice}-{k}", rng.uniform(*cfg.words_per_minute)
        # drawn only where asked: with both ranges unset the corpus is what it was without them
        shape = {**({"pitch_hz": round(rng.uniform(*cfg.engine_pitch_hz))} if cfg.engine_pitch_hz else {}),
                 **({"tract": round(rng.uniform(*cfg.engine_tract), 3)} if cfg.engine_tract else {})}
        for sentence in rng.choice(pool, cfg.utterances_per_speaker, replace=False):
            rate = round(base_rate * (1 + rng.uniform(-cfg.jitter, cfg.jitter)))
            rows.append(dict(id=f"{speaker}-{sentence:03d}", split="train", speaker=speaker, accent=name,
                             text=sentences[sentence], words_per_minute=rate, pitch="", **shape, engine=name,
                             voice=voice))
    return rows


def _unseen(cfg: SyntheticParams, rng: np.random.Generator, pool: np.ndarray, sentences: list[str]) -> list[dict]:
    """The split test_unseen: each unseen voice reads test sentences at its own neutral rate."""
    rows = []
    for name, voices in cfg.unseen.items():
        for voice in voices:
            speaker = f"{name}-{voice}"
            for sentence in rng.choice(pool, cfg.utterances_per_speaker, replace=False):
                rows.append(dict(id=f"{speaker}-{sentence:03d}", split="test_unseen", speaker=speaker, accent=name,
                                 text=sentences[sentence], words_per_minute=NEUTRAL_WORDS_PER_MINUTE, pitch="",
                                 engine=name, voice=voice))
    return rows


def _speak(out_dir: Path, rows: list[dict]) -> list[tuple[str, float, int, str]]:
    """Write one speaker's FLAC files; each one's path under `out_dir`, seconds, sample rate and
    phonemes (what the engine says it spoke, in its own symbols: the phone target's transcript)."""
    espeak, spoken = Espeak(), []
    other = isinstance(rows[0].get("engine"), str)  # a voice of another engine (pandas gives NaN where none)
    # the phone target's transcript is eSpeak's phonemes of the text, whoever speaks it
    espeak.set_voice("en-us" if other else rows[0]["speaker"])
    voice = engine(rows[0]["engine"], rows[0]["voice"]) if other else None
    for row in rows:
        if other:  # pitch_hz and tract: absent, or NaN where other rows of the corpus have them
            pitch, tract = row.get("pitch_hz"), row.get("tract")
            samples, rate = voice.synthesize(row["text"], row["words_per_minute"],
                                             None if pitch is None or pd.isna(pitch) else float(pitch),
                                             1.0 if tract is None or pd.isna(tract) else float(tract))
        else:
            samples, rate = espeak.synthesize(row["text"], row["words_per_minute"], row["pitch"]), espeak.sample_rate
        path = Path("audio") / row["speaker"] / f"{row['id']}.flac"
        (out_dir / path.parent).mkdir(parents=True, exist_ok=True)
        with writing(out_dir / path):  # libsndfile reports a full disk as "problem with initialization of the flac decoder"
            sf.write(out_dir / path, samples, rate, format="FLAC", subtype="PCM_16")
        spoken.append((path.as_posix(), len(samples) / rate, rate, espeak.phonemes(row["text"])))
    return spoken


def download(cfg: SyntheticParams, out_dir: Path, workers: int = 1) -> pd.DataFrame:
    utterances = plan(cfg, load_sentences(cfg.sentences))
    speakers = [group.to_dict("records") for _, group in utterances.groupby("speaker", sort=False)]
    spoken = []
    # fork: a fresh copy of this process (whose engine never spoke) for every speaker
    with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=1) as pool, \
            tqdm(total=len(utterances), desc="synthesize", unit="utt") as progress:
        for clips in pool.imap(partial(_speak, out_dir), speakers):
            spoken += clips
            progress.update(len(clips))
    by_id = dict(zip((row["id"] for rows in speakers for row in rows), spoken))
    paths, seconds, rates, phonemes = zip(*(by_id[i] for i in utterances["id"]))
    return utterances.assign(path=list(paths), seconds=np.round(seconds, 4), sample_rate=list(rates),
                             phones=list(phonemes))
