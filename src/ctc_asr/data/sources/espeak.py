"""eSpeak NG through ctypes, from the library and voice data inside the espeakng-loader wheel.

No system package is needed. The engine keeps global state (terminating and initialising it
again does not reset it), so one process holds one `Espeak` at a time and synthesis is
sequential (it runs ~1000x faster than real time).
"""

import ctypes
from functools import cache
from pathlib import Path

import espeakng_loader
import numpy as np

from ctc_asr.core.errors import UserError

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples come back through the callback
_DONT_EXIT = 0x8000  # espeakINITIALIZE_DONT_EXIT: report errors instead of exit()
_RATE, _PITCH = 1, 3  # espeak_PARAMETER
_POS_CHARACTER, _CHARS_UTF8 = 1, 1
_PHONEME_SEPARATOR = ord(" ") << 8  # phonememode bits 8-23: the character between phoneme names
_STRESS = str.maketrans("", "", "',%=")  # stress and syllabic marks: prosody, not phone identity
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@cache
def variants() -> tuple[str, ...]:
    """Voice variants shipped with the engine (m1, f3, klatt, ...)."""
    return tuple(sorted(p.name for p in (Path(espeakng_loader.get_data_path()) / "voices" / "!v").iterdir()))


class Espeak:
    def __init__(self):
        self._lib = _library()
        self.sample_rate = self._lib.espeak_Initialize(
            _SYNCHRONOUS, 0, str(Path(espeakng_loader.get_data_path()).parent).encode(), _DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        self._chunks: list[np.ndarray] = []
        # Keep a reference: ctypes frees the trampoline when the Python object dies.
        self._callback = _CALLBACK(self._collect)
        self._lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, samples, count, _events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    def set_voice(self, name: str) -> None:
        """`name` is a language voice optionally with a variant: 'en-gb-scotland+f2'."""
        variant = name.partition("+")[2]
        if variant and variant not in variants():
            raise UserError(f"eSpeak NG has no voice variant {variant!r} (it has: {', '.join(variants())})")
        if self._lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise UserError(f"eSpeak NG has no voice {name.partition('+')[0]!r}")

    def phonemes(self, text: str) -> str:
        """What the current voice says for `text`, in eSpeak's own (ASCII) phoneme names, space-separated."""
        buffer = ctypes.create_string_buffer(text.encode())
        pointer = ctypes.c_void_p(ctypes.addressof(buffer))
        clauses = []
        while pointer.value:  # the engine moves the pointer past each clause it converts
            clauses.append(self._lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _PHONEME_SEPARATOR))
        return " ".join(b" ".join(clauses).decode().translate(_STRESS).split())

    def synthesize(self, text: str, words_per_minute: int, pitch: int) -> np.ndarray:
        """Speak `text` with the current voice; int16 samples at `self.sample_rate`.

        The engine keeps state from one utterance to the next (its pitch flutter runs on), so
        a clip depends on what the process spoke before it: see synthetic.py."""
        self._lib.espeak_SetParameter(_RATE, int(words_per_minute), 0)
        self._lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        self._chunks = []
        data = text.encode()
        status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise RuntimeError(f"eSpeak NG failed (status {status}) on {text!r}")
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


@cache
def _library() -> ctypes.CDLL:
    library = ctypes.CDLL(espeakng_loader.get_library_path())
    library.espeak_TextToPhonemes.restype = ctypes.c_char_p
    library.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
    return library
