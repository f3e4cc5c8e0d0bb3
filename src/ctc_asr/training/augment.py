"""Waveform augmentation of training clips, applied where batches are built: in the data-loader workers.

Each kind of params' `augment` section is applied in this order (KINDS): the talker's speed, the
room's echo, the noise in the room, then the recording chain: the level it was recorded at,
clipping, a band-limited line, a lossy codec. A kind that is enabled is applied to a clip with
its probability, with values drawn from its ranges. Dev and test clips are never augmented.

Every draw of a batch comes from a stream of its own (seeds.py: "augment", the step, the process),
as its SpecAugment masks do: the same seed gives the same clips, whatever the number of workers,
and a resumed run draws what the uninterrupted one would have. The simulated rooms are drawn
once a run, from the "rooms" stream. With every kind off nothing here runs and training is
what it was without augmentation, byte for byte.

Speed changes a clip's length. The batch plan sizes batches by the lengths at the slowest
factor (`planned_lengths`), so a batch never exceeds train.batch_seconds of padded audio; and no clip is
sped up past the frames its transcript needs (`fastest`: CTC feasibility, as the filter stage
checks it at speed 1).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from transformers import Wav2Vec2Config

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import AugmentParams, ReverbParams
from ctc_asr.core.seeds import stream
from ctc_asr.data import audio
from ctc_asr.data.filters import frames_needed
from ctc_asr.data.pcm import as_float
from ctc_asr.data.store import Store
from ctc_asr.network.geometry import samples_for_frames
from ctc_asr.training import effects

KINDS = ("speed", "reverb", "noise", "gain", "clipping", "band", "codec")
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".au", ".sph"}


def active(cfg: AugmentParams | None) -> bool:
    """Whether any kind is enabled."""
    return cfg is not None and any(getattr(cfg, kind).enabled for kind in KINDS)


def planned_lengths(cfg: AugmentParams | None, lengths: np.ndarray) -> np.ndarray:
    """Clip lengths for the batch plan: at the slowest speed factor, the longest a clip can become
    (`lengths` themselves without speed perturbation)."""
    slowest = min(cfg.speed.factors) if active(cfg) and cfg.speed.enabled else 1.0
    return np.ceil(np.asarray(lengths) / slowest).astype(np.int64) if slowest < 1 else lengths


class Recordings:
    """The audio files under a folder (searched recursively), read at one sample rate. Each is probed when
    the run starts: a bad file stops it then, named, rather than a data-loader worker later."""

    def __init__(self, folder: str, rate: int, key: str):
        if not Path(folder).is_dir():
            raise UserError(f"{key}: {folder} is not a folder")
        self.paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        if not self.paths:
            raise UserError(f"{key}: {folder} holds no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})")
        infos = [audio.probe(path) for path in self.paths]
        self.frames, self.rates = [i.frames for i in infos], [i.samplerate for i in infos]
        self.rate = rate

    def __len__(self) -> int:
        return len(self.paths)

    def whole(self, k: int) -> np.ndarray:
        return audio.load(self.paths[k], self.rate)

    def stretch(self, k: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """`length` samples of file k from a random place, looped where the file is shorter."""
        own = int(np.ceil(length * self.rates[k] / self.rate)) + 1  # the stretch in the file's own samples
        if own >= self.frames[k]:
            samples = self.whole(k)
            return effects.looped(samples, length, int(rng.integers(len(samples))))
        start = int(rng.integers(self.frames[k] - own + 1))
        samples = audio.load(self.paths[k], self.rate, segment=(start / self.rates[k], own / self.rates[k]))
        return effects.looped(samples, length)


def simulated_rooms(cfg: ReverbParams, rate: int, seed: int) -> list[np.ndarray]:
    """`cfg.rooms` impulse responses of shoebox rooms drawn from cfg's ranges, source and microphone anywhere
    in them (effects.WALL_GAP from the walls)."""
    rng = np.random.default_rng(seed)
    responses = []
    for _ in range(cfg.rooms):
        sides = np.array([*rng.uniform(*cfg.room_metres, 2), rng.uniform(*effects.ROOM_HEIGHT)])
        source, microphone = (rng.uniform(effects.WALL_GAP, sides - effects.WALL_GAP) for _ in range(2))
        responses.append(effects.room_response(rng.uniform(*cfg.rt60), tuple(sides), source, microphone, rate))
    return responses


@dataclass
class Augmenter:
    """What a run's training clips go through (see the module's doc); `batch` is what a worker calls."""

    cfg: AugmentParams
    store: Store
    rows: np.ndarray  # the store rows trained on: babble's talkers
    config: Wav2Vec2Config  # its conv geometry: frames per clip
    rooms: list[np.ndarray]
    noises: Recordings | None = None
    responses: Recordings | None = None

    @classmethod
    def of(cls, cfg: AugmentParams | None, store: Store, rows: np.ndarray, config: Wav2Vec2Config,
           seed: int) -> "Augmenter | None":
        """The run's augmenter; None when every kind is off."""
        if not active(cfg):
            return None
        rate = store.sample_rate
        check_rate(cfg, rate)
        reverb, noise = cfg.reverb, cfg.noise
        recorded = reverb.enabled and reverb.folder is not None
        return cls(cfg, store, np.asarray(rows), config,
                   rooms=simulated_rooms(reverb, rate, stream(seed, "rooms")) if reverb.enabled and not recorded else [],
                   noises=Recordings(noise.folder, rate, "augment.noise.folder") if noise.enabled and noise.folder else None,
                   responses=Recordings(reverb.folder, rate, "augment.reverb.folder") if recorded else None)

    @property
    def rate(self) -> int:
        return self.store.sample_rate

    def batch(self, rows: np.ndarray, seed: int) -> list[np.ndarray]:
        """Store rows `rows`, augmented with draws from `seed` (the batch's own stream)."""
        rng = np.random.default_rng(seed)
        return [self.clip(as_float(self.store.audio(i)), self.store.labels(i), rng) for i in rows]

    def clip(self, samples: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for kind in KINDS:
            cfg = getattr(self.cfg, kind)
            if cfg.enabled and rng.random() < cfg.probability:
                samples = getattr(self, f"_{kind}")(samples, labels, rng)
        return samples

    def fastest(self, length: int, labels: np.ndarray) -> float:
        """The largest speed factor that leaves a clip of `length` samples the frames its `labels` need
        (1 for a clip that has too few already: it may be slowed, never sped up)."""
        needed = samples_for_frames(self.config, frames_needed(labels))
        return max(1.0, length / needed) if needed else np.inf

    def _speed(self, samples, labels, rng):
        factors = self.cfg.speed.factors
        factor = rng.uniform(min(factors), max(factors)) if self.cfg.speed.continuous else factors[rng.integers(len(factors))]
        return effects.speed(samples, min(factor, self.fastest(len(samples), labels)), self.rate)

    def _reverb(self, samples, labels, rng):
        if self.responses:
            response = self.responses.whole(int(rng.integers(len(self.responses))))
        else:
            response = self.rooms[rng.integers(len(self.rooms))]
        return effects.reverberate(samples, response)

    def _noise(self, samples, labels, rng):
        sources = self.cfg.noise.sources
        noise = self.noise(sources[rng.integers(len(sources))], len(samples), rng)
        return effects.add_at_snr(samples, noise, rng.uniform(*self.cfg.noise.snr_db))

    def noise(self, source: str, length: int, rng: np.random.Generator) -> np.ndarray:
        if source in effects.NOISE_EXPONENTS:
            return effects.colored_noise(length, source, rng)
        if source == "files":
            return self.noises.stretch(int(rng.integers(len(self.noises))), length, rng)
        return self.babble(length, rng)

    def babble(self, length: int, rng: np.random.Generator) -> np.ndarray:
        """Other training clips at one level, summed, each from a random place (and looped)."""
        low, high = self.cfg.noise.babble_speakers
        talkers = rng.choice(self.rows, size=int(rng.integers(low, high + 1)), replace=len(self.rows) < high)
        total = np.zeros(length, np.float32)
        for i in talkers:
            voice = as_float(self.store.audio(i))
            voice = effects.looped(voice, length, int(rng.integers(len(voice))))
            total += voice / np.float32(np.sqrt(effects.power(voice)) or 1)
        return total

    def _gain(self, samples, labels, rng):
        return effects.gained(samples, rng.uniform(*self.cfg.gain.db))

    def _clipping(self, samples, labels, rng):
        return effects.clipped(samples, rng.uniform(*self.cfg.clipping.share))

    def _band(self, samples, labels, rng):
        band = self.cfg.band
        return effects.band_pass(samples, rng.uniform(*band.low_hz), rng.uniform(*band.high_hz), self.rate)

    def _codec(self, samples, labels, rng):
        formats = self.cfg.codec.formats
        codec = formats[rng.integers(len(formats))]
        return effects.codec_round_trip(samples, codec, rng.uniform(*self.cfg.codec.kbps), self.rate)


def check_rate(cfg: AugmentParams, rate: int) -> None:
    """What the store's sample rate rules out, as one line before training starts."""
    if cfg.band.enabled and cfg.band.high_hz[1] >= rate / 2:
        raise UserError(f"augment.band.high_hz: {cfg.band.high_hz[1]} Hz is not below half the sample rate "
                        f"({rate} Hz audio holds nothing above {rate / 2:g} Hz)")
    for codec in cfg.codec.formats if cfg.codec.enabled else []:
        try:
            effects.codec_round_trip(np.zeros(rate // 10, np.float32), codec, cfg.codec.kbps[0], rate)
        except (sf.LibsndfileError, RuntimeError, TypeError) as error:
            raise UserError(f"augment.codec.formats: libsndfile {sf.__libsndfile_version__} cannot encode {codec} at "
                            f"{rate} Hz ({error}); Opus takes 8, 12, 16, 24 or 48 kHz") from None
