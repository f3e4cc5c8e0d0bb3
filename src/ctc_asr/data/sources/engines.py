"""Speech engines beside eSpeak NG, run as programs: Flite and Festival (Debian packages), whose voices are
built from recordings of real speakers (diphones, clustergen and HTS models), unlike eSpeak's formant voices.

Each gives int16 samples for a text at a speaking rate; both are deterministic (the same text and
settings give the same bytes), so a corpus they speak is the same for a given seed.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ctc_asr.core.errors import UserError

NEUTRAL_WORDS_PER_MINUTE = 170  # the rate these voices speak at when not stretched (about)
INSTALL = {
    "flite": "apt-get install flite",
    "festival": "apt-get install festival festvox-kdlpc16k festvox-kallpc16k",
}


class Engine:
    name = ""

    def __init__(self, voice: str):
        if not shutil.which(self.program):
            raise UserError(f"data.synthetic: the {self.name} engine is not installed ({INSTALL[self.name]}; "
                            "`make setup` installs it where it can)")
        self.voice = voice

    def synthesize(self, text: str, words_per_minute: int, pitch_hz: float | None = None,
                   tract: float = 1.0) -> tuple[np.ndarray, int]:
        """`text` spoken at about `words_per_minute`, at a mean pitch of `pitch_hz` (None: the voice's own), by a
        vocal tract `tract` times the voice's: int16 samples and their rate.

        The tract is scaled by the rate alone: spoken `tract` times slower and lower, then labelled with a rate
        `tract` times the engine's, the audio plays at the tempo and pitch asked with every formant `tract` times
        higher (encode resamples it as it does any rate)."""
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "speech.wav"
            stretch = NEUTRAL_WORDS_PER_MINUTE / words_per_minute * tract
            command = self.command(text, stretch, None if pitch_hz is None else pitch_hz / tract, out)
            done = subprocess.run(command, input=text, capture_output=True, text=True)
            if done.returncode or not out.is_file():
                raise UserError(f"data.synthetic: {self.name} voice {self.voice!r} failed: "
                                f"{(done.stderr.strip().splitlines() or ['no audio written'])[-1]}")
            samples, rate = sf.read(out, dtype="int16")
        return samples, round(rate * tract)

    def command(self, text: str, stretch: float, pitch_hz: float | None, out: Path) -> list[str]:
        raise NotImplementedError


class Flite(Engine):
    name, program = "flite", "flite"

    def __init__(self, voice: str):
        super().__init__(voice)
        listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout.split(":", 1)[-1].split()
        if voice not in listed:
            raise UserError(f"data.synthetic: flite has no voice {voice!r} (it has: {', '.join(listed)})")

    def command(self, text: str, stretch: float, pitch_hz: float | None, out: Path) -> list[str]:
        pitch = [] if pitch_hz is None else ["--setf", f"int_f0_target_mean={pitch_hz:.1f}"]
        return ["flite", "-voice", self.voice, "-t", text, "-o", str(out), "--setf", f"duration_stretch={stretch:.4f}",
                *pitch]


class Festival(Engine):
    name, program = "festival", "text2wave"

    def __init__(self, voice: str):
        super().__init__(voice)
        probe = subprocess.run(["festival", "-b", f"(voice_{voice})"], capture_output=True, text=True)
        if probe.returncode or "not defined" in probe.stderr + probe.stdout:
            raise UserError(f"data.synthetic: festival has no voice {voice!r} ({INSTALL['festival']} gives "
                            "ked_diphone and kal_diphone)")

    def command(self, text: str, stretch: float, pitch_hz: float | None, out: Path) -> list[str]:
        # text2wave reads the text from stdin; the diphone voices' intonation model maps its own mean F0 (170 Hz,
        # spread 34) onto the target's, the spread scaled alike
        pitch = [] if pitch_hz is None else [
            "-eval", f"(set! int_lr_params '((target_f0_mean {pitch_hz:.1f}) (target_f0_std {pitch_hz * 0.2:.1f}) "
                     "(model_f0_mean 170) (model_f0_std 34)))"]
        return ["text2wave", "-eval", f"(voice_{self.voice})", "-eval", f"(Parameter.set 'Duration_Stretch {stretch:.4f})",
                *pitch, "-o", str(out)]


ENGINES = {"flite": Flite, "festival": Festival}


def engine(name: str, voice: str) -> Engine:
    if name not in ENGINES:
        raise UserError(f"data.synthetic: no engine {name!r} (engines beside eSpeak: {', '.join(ENGINES)})")
    return ENGINES[name](voice)
