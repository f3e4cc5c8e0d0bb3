"""Recordings of any length: overlapping chunks, exact batched logits, stitched, with word times."""

from dataclasses import dataclass

import numpy as np
import torch
from transformers import Wav2Vec2ForCTC, Wav2Vec2PhonemeCTCTokenizer, Wav2Vec2Processor

from .geometry import samples_per_frame
from .inference import logits, single_spaced


@dataclass
class Chunking:
    samples: int   # chunk length, a whole number of frames
    overlap: int   # samples shared by neighbouring chunks, a whole number of frames
    frame: int     # samples per output frame (the conv stack's total stride)

    @classmethod
    def of(cls, model: Wav2Vec2ForCTC, sample_rate: int, chunk_seconds: float, overlap_seconds: float) -> "Chunking":
        frame = samples_per_frame(model.config)
        samples = max(1, round(chunk_seconds * sample_rate / frame)) * frame
        # Two frames at least: a chunk's last frame is missing (the conv receptive field), and
        # the cut in the middle of the overlap must fall before it.
        overlap = max(2, round(overlap_seconds * sample_rate / frame)) * frame
        samples = max(samples, 2 * overlap)
        return cls(samples, overlap, frame)

    def starts(self, length: int) -> list[int]:
        """First sample of each chunk; the last chunk ends at or after `length`."""
        hop = self.samples - self.overlap
        return list(range(0, max(length - self.overlap, 1), hop))


def stitch(pieces: list[torch.Tensor], starts: list[int], chunking: Chunking) -> torch.Tensor:
    """One frame sequence from overlapping chunks' frames: each overlap is cut at its middle,
    so every frame comes from the chunk where it sits farther from an edge."""
    first_frames = [s // chunking.frame for s in starts]
    cuts = [0] + [(s + chunking.overlap // 2) // chunking.frame for s in starts[1:]] + [None]
    kept = []
    for piece, first, low, high in zip(pieces, first_frames, cuts[:-1], cuts[1:]):
        kept.append(piece[low - first:None if high is None else high - first])
    return torch.cat(kept) if kept else torch.zeros(0)


def recording_logits(model: Wav2Vec2ForCTC, samples: np.ndarray, chunking: Chunking, batch_size: int = 8) -> torch.Tensor:
    starts = chunking.starts(len(samples))
    pieces = logits(model, [samples[s:s + chunking.samples] for s in starts], batch_size)
    return stitch(pieces, starts, chunking)


def words_with_times(model: Wav2Vec2ForCTC, processor: Wav2Vec2Processor, scores: torch.Tensor,
                     sample_rate: int, beam_width: int = 50) -> tuple[str, list[dict]]:
    """The text and each word's start and end in seconds, from the CTC alignment: the best beam's
    when the processor has an LM decoder (Wav2Vec2ProcessorWithLM), else the greedy path's.
    A phone model's units are its phones (a phoneme tokenizer has no word offsets, its phones are "chars")."""
    if not len(scores):
        return "", []
    phones = isinstance(processor.tokenizer, Wav2Vec2PhonemeCTCTokenizer)
    if hasattr(processor, "decoder"):
        decoded = processor.decode(scores.float().numpy(), beam_width=beam_width, output_word_offsets=True)
    else:
        decoded = processor.decode(scores.argmax(-1).tolist(), **{f"output_{'char' if phones else 'word'}_offsets": True})
    step = samples_per_frame(model.config) / sample_rate
    unit, offsets = ("char", decoded.char_offsets) if phones else ("word", decoded.word_offsets)
    words = [
        {"word": w[unit], "start": round(float(w["start_offset"]) * step, 3), "end": round(float(w["end_offset"]) * step, 3)}
        for w in offsets if w[unit]
    ]
    return single_spaced(decoded.text), words
