"""CTC beam search with a word n-gram LM: pyctcdecode over KenLM, as Wav2Vec2ProcessorWithLM runs it.

pyctcdecode 0.5.0 pins numpy<2, a pin its code does not need (tests/test_decoding.py runs it
on numpy 2): install it with `pip install --no-deps pyctcdecode==0.5.0`, as `make` does.
"""

import multiprocessing
import os
from collections.abc import Sequence
from contextlib import nullcontext
from itertools import product
from pathlib import Path

import pandas as pd
import torch
from transformers import Wav2Vec2Processor

from ctc_asr.core.errors import UserError
from ctc_asr.decoding.inference import single_spaced
from ctc_asr.evaluation.scoring import score
from ctc_asr.network.model import save_processor

ARPA, UNIGRAMS = "lm.arpa", "unigrams.txt"


def _pyctcdecode():
    try:
        import pyctcdecode
    except ImportError:
        raise UserError("beam-search decoding needs pyctcdecode: pip install --no-deps pyctcdecode==0.5.0") from None
    return pyctcdecode


def has_lm(lm_dir: Path) -> bool:
    """Whether the lm stage wrote a model into `lm_dir` (it writes none when lm.order is 0)."""
    return (Path(lm_dir) / ARPA).is_file()


def decoder(processor: Wav2Vec2Processor, lm_dir: Path, alpha: float, beta: float):
    """A pyctcdecode decoder over the tokenizer's labels (`|` the space, `[PAD]` the blank) and the LM."""
    labels = [token for token, _ in sorted(processor.tokenizer.get_vocab().items(), key=lambda item: item[1])]
    unigrams = (Path(lm_dir) / UNIGRAMS).read_text(encoding="utf-8").split()
    return _pyctcdecode().build_ctcdecoder(labels, kenlm_model_path=str(Path(lm_dir) / ARPA), unigrams=unigrams,
                                           alpha=alpha, beta=beta)


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


def tune(beam_decoder, scores: Sequence[torch.Tensor], references: list[str], alphas: list[float], betas: list[float],
         beam_width: int) -> pd.DataFrame:
    """WER/CER for every (alpha, beta) pair, best first (lowest WER, then CER); leaves the decoder at the best."""
    rows = []
    for alpha, beta in product(alphas, betas):
        beam_decoder.reset_params(alpha=alpha, beta=beta)
        totals, _ = score(references, beam_texts(beam_decoder, scores, beam_width))
        rows.append({"alpha": alpha, "beta": beta, "wer": totals["wer"], "cer": totals["cer"]})
    grid = pd.DataFrame(rows).sort_values(["wer", "cer", "alpha", "beta"], kind="stable", ignore_index=True)
    beam_decoder.reset_params(alpha=float(grid["alpha"][0]), beta=float(grid["beta"][0]))
    return grid


def save(folder: Path, processor: Wav2Vec2Processor, beam_decoder) -> None:
    """Save processor and decoder so that `Wav2Vec2ProcessorWithLM.from_pretrained(folder)` and the HF ASR
    pipeline both load them with the LM active."""
    from transformers import Wav2Vec2ProcessorWithLM

    # The ASR pipeline looks for the processor class in the feature extractor's settings; where
    # transformers 5 saves it (the top of processor_config.json) it finds none and decodes
    # greedily without a word. save_processor puts it where the pipeline looks.
    save_processor(Wav2Vec2ProcessorWithLM(processor.feature_extractor, processor.tokenizer, beam_decoder), folder)


def load_processor(folder: Path):
    """The folder's processor: with its LM when it has one (and pyctcdecode is installed), else the plain one."""
    folder = Path(folder)
    if (folder / "language_model").is_dir():
        _pyctcdecode()
        from transformers import Wav2Vec2ProcessorWithLM

        return Wav2Vec2ProcessorWithLM.from_pretrained(folder)
    return Wav2Vec2Processor.from_pretrained(folder)
