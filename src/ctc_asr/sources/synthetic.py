"""An English speech corpus synthesised offline with eSpeak NG.

A speaker is an accent and a voice variant with its own base rate and pitch; each
utterance jitters both a little. Test speakers and test sentences are drawn first and
never appear in train, so the test WER measures generalisation to new voices and text.
Audio stays at the engine's native 22,050 Hz so that resampling runs as for real data.
"""

from importlib import resources
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from tqdm import tqdm

from ..errors import UserError
from ..params import SyntheticParams
from .espeak import Espeak


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
    n_speakers = cfg.train_speakers + cfg.test_speakers
    if n_speakers > len(voices):
        raise UserError(
            f"data.synthetic: {n_speakers} speakers asked for, but accents x variants gives only {len(voices)}"
        )
    order = rng.permutation(len(sentences))
    pools = {"test": order[: cfg.test_sentences], "train": order[cfg.test_sentences:]}
    for split, pool in pools.items():
        if len(pool) < cfg.utterances_per_speaker:
            raise UserError(
                f"data.synthetic: the {split} pool has {len(pool)} sentences, fewer than "
                f"utterances_per_speaker ({cfg.utterances_per_speaker}); "
                f"{len(sentences)} sentences in all, test_sentences={cfg.test_sentences}"
            )
    picked = rng.choice(len(voices), n_speakers, replace=False)
    rows = []
    for rank, voice_index in enumerate(picked):
        accent, variant = voices[voice_index]
        split = "test" if rank < cfg.test_speakers else "train"
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
    return pd.DataFrame(rows)


def download(cfg: SyntheticParams, out_dir: Path) -> pd.DataFrame:
    utterances = plan(cfg, load_sentences(cfg.sentences))
    engine = Espeak()
    seconds, paths = [], []
    for row in tqdm(utterances.itertuples(), total=len(utterances), desc="synthesize", unit="utt"):
        engine.set_voice(row.speaker)
        samples = engine.synthesize(row.text, row.words_per_minute, row.pitch)
        path = Path("audio") / row.speaker / f"{row.id}.wav"
        (out_dir / path.parent).mkdir(parents=True, exist_ok=True)
        sf.write(out_dir / path, samples, engine.sample_rate, subtype="PCM_16")
        paths.append(path.as_posix())
        seconds.append(len(samples) / engine.sample_rate)
    return utterances.assign(path=paths, seconds=np.round(seconds, 4), sample_rate=engine.sample_rate)
