"""CTC beam search with a word n-gram LM: pyctcdecode over KenLM, called directly.

A model folder with an LM holds the decoder in pyctcdecode's own layout (alphabet.json and
language_model/), so `BeamSearchDecoderCTC.load_from_dir(folder)` loads it alone, and names the
processor class Wav2Vec2ProcessorWithLM, so that transformers' ASR pipeline decodes with it too.

pyctcdecode 0.5.0 pins numpy<2, a pin its code does not need (tests/test_decoding.py runs it
on numpy 2): install it with `pip install --no-deps pyctcdecode==0.5.0`, as `make` does.
"""

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from itertools import product
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm
from transformers import Wav2Vec2Processor

from ctc_asr.core.errors import UserError
from ctc_asr.decoding.inference import single_spaced
from ctc_asr.decoding.ngram import ARPA, UNIGRAMS
from ctc_asr.evaluation.scoring import score
from ctc_asr.network.model import save_processor

WITH_LM = "Wav2Vec2ProcessorWithLM"  # the processor class transformers' pipeline decodes with an LM for


def _pyctcdecode():
    try:
        import pyctcdecode
    except ImportError:
        raise UserError("beam-search decoding needs pyctcdecode: pip install --no-deps pyctcdecode==0.5.0") from None
    return pyctcdecode


@contextmanager
def _quiet_kenlm() -> Iterator[None]:
    """KenLM writes its loading notes and a progress bar of asterisks straight to the process's stderr (file
    descriptor 2, out of Python's reach): hold them back. Its errors still arrive, as Python exceptions."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def has_lm(lm_dir: Path) -> bool:
    """Whether the lm stage wrote a model into `lm_dir` (it writes none when ngram.order is 0)."""
    return (Path(lm_dir) / ARPA).is_file()


def has_decoder(folder: Path) -> bool:
    """Whether a model folder holds an LM decoder (as `save` writes it)."""
    return (Path(folder) / "language_model").is_dir()


def decoder(processor: Wav2Vec2Processor, lm_dir: Path, alpha: float, beta: float):
    """A pyctcdecode decoder over the tokenizer's labels (`|` the space, `[PAD]` the blank) and the LM."""
    labels = [token for token, _ in sorted(processor.tokenizer.get_vocab().items(), key=lambda item: item[1])]
    unigrams = (Path(lm_dir) / UNIGRAMS).read_text(encoding="utf-8").split()
    with _quiet_kenlm():
        return _pyctcdecode().build_ctcdecoder(labels, kenlm_model_path=str(Path(lm_dir) / ARPA), unigrams=unigrams,
                                               alpha=alpha, beta=beta)


def load_decoder(folder: Path):
    """The decoder `save` wrote into a model folder."""
    pyctcdecode = _pyctcdecode()
    with _quiet_kenlm():
        return pyctcdecode.BeamSearchDecoderCTC.load_from_dir(str(folder))


def save(folder: Path, processor: Wav2Vec2Processor, beam_decoder) -> None:
    """The processor and the decoder, in the layout Wav2Vec2ProcessorWithLM writes: pyctcdecode loads the
    decoder alone (`load_decoder`), transformers' pipeline loads both and decodes with the LM."""
    save_processor(processor, folder, WITH_LM)
    beam_decoder.save_to_dir(str(folder))


def beam_texts(beam_decoder, scores: Sequence[torch.Tensor], beam_width: int, processes: int | None = None) -> list[str]:
    """The best beam's text for each clip's (frames, vocab) logits, decoded in `processes` processes."""
    arrays = [s.float().numpy() for s in scores]
    decodable = [i for i, a in enumerate(arrays) if len(a)]
    processes = processes or os.cpu_count() or 1
    texts = [""] * len(arrays)
    # pyctcdecode hands the LM to its workers by fork (a fork pool made after the decoder's last change)
    with multiprocessing.get_context("fork").Pool(processes) if processes > 1 else nullcontext() as pool:
        decoded = beam_decoder.decode_batch(pool, [arrays[i] for i in decodable], beam_width=beam_width)
    for i, text in zip(decodable, decoded):
        texts[i] = single_spaced(text)
    return texts


def best_beam(beam_decoder, scores: torch.Tensor, beam_width: int) -> tuple[str, list[tuple[str, int, int]]]:
    """The best beam's text and its words with their first and last frame."""
    text, _, words, *_ = beam_decoder.decode_beams(scores.float().numpy(), beam_width=beam_width)[0]
    return text, [(word, start, end) for word, (start, end) in words if word]


def tune(beam_decoder, scores: Sequence[torch.Tensor], references: list[str], alphas: list[float], betas: list[float],
         beam_width: int, progress: bool = False) -> pd.DataFrame:
    """WER/CER for every (alpha, beta) pair, best first (lowest WER, then CER); leaves the decoder at the best."""
    rows = []
    for alpha, beta in tqdm(list(product(alphas, betas)), desc="tune", unit="point", disable=not progress):
        beam_decoder.reset_params(alpha=alpha, beta=beta)
        totals, _ = score(references, beam_texts(beam_decoder, scores, beam_width))
        rows.append({"alpha": alpha, "beta": beta, "wer": totals["wer"], "cer": totals["cer"]})
    grid = pd.DataFrame(rows).sort_values(["wer", "cer", "alpha", "beta"], kind="stable", ignore_index=True)
    beam_decoder.reset_params(alpha=float(grid["alpha"][0]), beta=float(grid["beta"][0]))
    return grid
