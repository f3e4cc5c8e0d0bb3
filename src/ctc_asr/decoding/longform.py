"""Recordings of any length in memory that does not grow with them: audio in blocks, overlapping
chunks whose exact batched logits are stitched, decoded in segments cut at pauses, with word times.

Beam search over a whole recording in one call grows with it (pyctcdecode caches LM scores keyed
by the text so far: 6.3 GB for 40 minutes); segments of bounded length keep it flat.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np
import torch
from transformers import Wav2Vec2ForCTC, Wav2Vec2PhonemeCTCTokenizer

from ctc_asr.decoding import beam
from ctc_asr.decoding.inference import logits, single_spaced
from ctc_asr.decoding.recogniser import Recogniser
from ctc_asr.network.geometry import samples_per_frame


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


def chunks(blocks: Iterable[np.ndarray], chunking: Chunking) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, samples) of each chunk of the recording that `blocks` make up, placed as
    `chunking.starts` places them, holding no more than a chunk and a block."""
    hop = chunking.samples - chunking.overlap
    buffer, start = np.zeros(0, np.float32), 0
    for block in blocks:
        buffer = np.concatenate([buffer, block]) if len(buffer) else block
        while len(buffer) >= chunking.samples:
            yield start, buffer[:chunking.samples]
            buffer, start = buffer[hop:], start + hop
    if start == 0 or len(buffer) > chunking.overlap:  # else the last full chunk reached the end
        yield start, buffer


def stitched(pieces: Iterable[tuple[int, torch.Tensor]], chunking: Chunking) -> Iterator[torch.Tensor]:
    """The frames of (first sample, chunk frames) pieces as one sequence, in order: each overlap is
    cut at its middle, so every frame comes from the chunk where it sits farther from an edge."""
    held, held_first, low = None, 0, 0  # a chunk's frames wait for the next chunk to say where they end
    for start, piece in pieces:
        if held is not None:
            cut = (start + chunking.overlap // 2) // chunking.frame
            yield held[low - held_first:cut - held_first]
            low = cut
        held, held_first = piece, start // chunking.frame
    if held is not None:
        yield held[low - held_first:]


def stitch(pieces: list[torch.Tensor], starts: list[int], chunking: Chunking) -> torch.Tensor:
    kept = list(stitched(zip(starts, pieces), chunking))
    return torch.cat(kept) if kept else torch.zeros(0)


def streamed_logits(model: Wav2Vec2ForCTC, blocks: Iterable[np.ndarray], chunking: Chunking,
                    batch_size: int = 8) -> Iterator[torch.Tensor]:
    """The recording's (frames, vocab) logits in consecutive pieces, `batch_size` chunks at a time."""
    def pieces():
        placed = chunks(blocks, chunking)
        while batch := list(islice(placed, batch_size)):
            yield from zip([s for s, _ in batch], logits(model, [c for _, c in batch], batch_size))

    return stitched(pieces(), chunking)


def recording_logits(model: Wav2Vec2ForCTC, samples: np.ndarray, chunking: Chunking, batch_size: int = 8) -> torch.Tensor:
    return torch.cat(list(streamed_logits(model, [samples], chunking, batch_size)))


def segments(pieces: Iterable[torch.Tensor], quiet: list[int], most: int) -> Iterator[tuple[int, torch.Tensor]]:
    """(first frame, frames) of consecutive segments of at most `most` frames. A segment that must
    end is cut in the middle of the longest run of `quiet` frames (best path blank or word
    delimiter: a pause) in its last half, at its end where there is none."""
    buffer, first = None, 0
    for piece in pieces:
        buffer = piece if buffer is None else torch.cat([buffer, piece])
        while len(buffer) > most:
            cut = _quiet_cut(buffer[:most], quiet)
            yield first, buffer[:cut]
            buffer, first = buffer[cut:], first + cut
    if buffer is not None and len(buffer):
        yield first, buffer


def _quiet_cut(window: torch.Tensor, quiet: list[int]) -> int:
    half = len(window) // 2
    flags = np.isin(window[half:].argmax(-1).numpy(), quiet).astype(np.int8)
    edges = np.diff(np.concatenate([[0], flags, [0]]))
    run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(run_starts):
        return len(window)
    longest = np.argmax(run_ends - run_starts)
    return max(1, half + (run_starts[longest] + run_ends[longest]) // 2)


def words_with_times(model: Recogniser, scores: torch.Tensor | Iterable[torch.Tensor], sample_rate: int,
                     segment_seconds: float = 30.0) -> tuple[str, list[dict]]:
    """The text and each word's start and end in seconds, from the CTC alignment: the best beam's
    when the model has an LM decoder, else the greedy path's.
    `scores` are (frames, vocab) logits, whole or in consecutive pieces (`streamed_logits`), decoded in
    segments (`segments`), each word's times shifted by its segment's start.
    A phone model's units are its phones (a phoneme tokenizer has no word offsets, its phones are "chars")."""
    step = samples_per_frame(model.network.config) / sample_rate
    tokenizer = model.processor.tokenizer
    quiet = [i for i in (tokenizer.pad_token_id, tokenizer.word_delimiter_token_id) if i is not None]
    pieces = [scores] if isinstance(scores, torch.Tensor) else scores
    texts, words = [], []
    for first, segment in segments(pieces, quiet, max(2, round(segment_seconds / step))):
        text, units = _decode(model, segment)
        texts.append(text)
        words += [{"word": unit, "start": round((first + start) * step, 3), "end": round((first + end) * step, 3)}
                  for unit, start, end in units]
    return single_spaced(" ".join(texts)), words


def _decode(model: Recogniser, scores: torch.Tensor) -> tuple[str, list[tuple[str, int, int]]]:
    """The text of one segment and its units with their first and last frame."""
    if model.decoder is not None:
        return beam.best_beam(model.decoder, scores, model.beam_width)
    phones = isinstance(model.processor.tokenizer, Wav2Vec2PhonemeCTCTokenizer)
    decoded = model.processor.decode(scores.argmax(-1).tolist(), **{f"output_{'char' if phones else 'word'}_offsets": True})
    unit, offsets = ("char", decoded.char_offsets) if phones else ("word", decoded.word_offsets)
    return decoded.text, [(o[unit], int(o["start_offset"]), int(o["end_offset"])) for o in offsets if o[unit]]
