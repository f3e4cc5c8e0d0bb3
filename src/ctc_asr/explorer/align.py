"""Reference and hypothesis aligned token by token with jiwer, the alignment evaluate scores with, and what
comes of it: each utterance's error count and the error pairs it holds."""

from collections import defaultdict
from collections.abc import Iterator, Sequence

import jiwer
import numpy as np

from ctc_asr.evaluation.scoring import NOTHING, SPACE

OPS = {"equal": "=", "substitute": "S", "delete": "D", "insert": "I"}


def _process(unit: str):
    """Phones are scored as words are: space-separated tokens."""
    return jiwer.process_characters if unit == "char" else jiwer.process_words


def _shown(token: str, unit: str) -> str:
    return SPACE if unit == "char" and token == " " else token


def _positions(reference: list[str], hypothesis: list[str], alignment, unit: str) -> Iterator[tuple[str, str, str]]:
    """(op, reference token, hypothesis token) per aligned position; NOTHING on the missing side."""
    for chunk in alignment:
        refs = reference[chunk.ref_start_idx:chunk.ref_end_idx]
        hyps = hypothesis[chunk.hyp_start_idx:chunk.hyp_end_idx]
        width = max(len(refs), len(hyps))
        refs, hyps = refs + [NOTHING] * (width - len(refs)), hyps + [NOTHING] * (width - len(hyps))
        for ref, hyp in zip(refs, hyps):
            yield OPS[chunk.type], _shown(ref, unit), _shown(hyp, unit)


def aligned(reference: str, hypothesis: str, unit: str) -> list[dict]:
    """One item per aligned position: {"op": "=" | "S" | "D" | "I", "ref": token, "hyp": token}."""
    out = _process(unit)([reference], [hypothesis])
    positions = _positions(out.references[0], out.hypotheses[0], out.alignments[0], unit)
    return [{"op": op, "ref": ref, "hyp": hyp} for op, ref, hyp in positions]


def error_counts(references: Sequence[str], hypotheses: Sequence[str], unit: str) -> np.ndarray:
    """Substitutions + deletions + insertions of each utterance, counted in `unit`s."""
    if not len(references):
        return np.zeros(0, int)
    out = _process(unit)(list(references), list(hypotheses))
    return np.array([sum(max(c.ref_end_idx - c.ref_start_idx, c.hyp_end_idx - c.hyp_start_idx)
                         for c in alignment if c.type != "equal") for alignment in out.alignments], int)


def error_places(references: Sequence[str], hypotheses: Sequence[str], unit: str) -> dict[tuple[str, str], list[int]]:
    """Each (reference token, hypothesis token) error pair, as metrics/eval/top_errors.tsv and confusions.tsv
    write it, -> the positions of the utterances it happens in, in order, each once."""
    places = defaultdict(list)
    if not len(references):
        return places
    out = _process(unit)(list(references), list(hypotheses))
    for k, (ref, hyp, alignment) in enumerate(zip(out.references, out.hypotheses, out.alignments)):
        for pair in dict.fromkeys((r, h) for op, r, h in _positions(ref, hyp, alignment, unit) if op != "="):
            places[pair].append(k)
    return dict(places)
