"""A trained model folder as one object: the network, its processor and, when the folder has one, the
LM decoder with the beam width it was tuned with. `load` is the one way stages and commands read a folder;
`assemble` writes models/asr (the trained folder plus its tuned decoder)."""

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr.core.errors import UserError
from ctc_asr.decoding import beam
from ctc_asr.decoding.inference import greedy_text, logits
from ctc_asr.network.model import device

SETTINGS = "decoding.json"   # saved beside the decoder: what pyctcdecode's own files do not keep
DEFAULT_BEAM_WIDTH = 100     # pyctcdecode's, for folders saved elsewhere without SETTINGS


@dataclass
class Recogniser:
    network: Wav2Vec2ForCTC
    processor: Wav2Vec2Processor
    decoder: object | None = None   # pyctcdecode's BeamSearchDecoderCTC with its weights; None: greedy
    beam_width: int = DEFAULT_BEAM_WIDTH


def load(folder: str | Path, with_lm: bool = True) -> Recogniser:
    """The model in `folder` (a save_pretrained folder: models/ctc, models/asr, a hub checkpoint's copy)
    on the device it runs on; with its LM decoder when it has one and `with_lm`."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a stage's output is its own lines; a command's, transcripts and errors
    folder = Path(folder)
    try:
        network = Wav2Vec2ForCTC.from_pretrained(folder).to(device())
        processor = Wav2Vec2Processor.from_pretrained(folder)
    except OSError as error:
        raise UserError(f"{folder}: not a model directory ({str(error).strip().splitlines()[0]})") from None
    if not (with_lm and beam.has_decoder(folder)):
        return Recogniser(network, processor)
    settings = json.loads((folder / SETTINGS).read_text()) if (folder / SETTINGS).is_file() else {}
    return Recogniser(network, processor, beam.load_decoder(folder), settings.get("beam_width", DEFAULT_BEAM_WIDTH))


def assemble(trained: Path, lm_dir: Path, alpha: float | None, beta: float | None, beam_width: int, folder: Path) -> None:
    """`folder`: the `trained` folder, plus the LM decoder of `lm_dir` with its tuned weights when there are
    some (alpha None: no LM, the folder decodes greedily)."""
    shutil.copytree(trained, folder, copy_function=shutil.copyfile)  # not its modes: a linked cache's files are read-only
    if alpha is None:
        return
    processor = Wav2Vec2Processor.from_pretrained(trained)
    beam.save(folder, processor, beam.decoder(processor, lm_dir, alpha, beta))
    (folder / SETTINGS).write_text(json.dumps({"beam_width": beam_width}, indent=2) + "\n")


def transcribe(recogniser: Recogniser, clips: Sequence[np.ndarray], batch_size: int,
               audio_seconds: float) -> tuple[dict[str, list[str]], dict[str, float]]:
    """Greedy and (with a decoder) beam-search texts (`ngram`) of every clip, and how fast each went."""
    started = time.perf_counter()
    scores = logits(recogniser.network, clips, batch_size, progress=True)
    forward = time.perf_counter() - started
    decoded = {"greedy": [greedy_text(recogniser.processor, s) for s in scores]}
    timing = {"forward_seconds": round(forward, 2),
              "greedy_real_time_factor": round((time.perf_counter() - started) / audio_seconds, 4)}
    if recogniser.decoder is not None:
        started = time.perf_counter()
        decoded["ngram"] = beam.beam_texts(recogniser.decoder, scores, recogniser.beam_width)
        searching = time.perf_counter() - started
        timing |= {"beam_search_seconds": round(searching, 2),
                   "beam_search_utterances_per_second": round(len(clips) / searching, 1),
                   "ngram_real_time_factor": round((forward + searching) / audio_seconds, 4)}
    return decoded, timing


def transcribe_split(recogniser: Recogniser, store, split: str, batch_size: int) -> tuple:
    """A split of an encoded store: its rows of the index, each decoding's texts, and the speeds."""
    rows = store.rows(split)
    clips = store.index.iloc[rows]
    decoded, timing = transcribe(recogniser, [store.audio(i) for i in rows], batch_size, max(float(clips["seconds"].sum()), 1e-9))
    return clips, decoded, timing
