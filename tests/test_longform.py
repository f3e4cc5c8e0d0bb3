import numpy as np
import pytest
import torch

from ctc_asr import inference, model
from ctc_asr.geometry import output_frames
from ctc_asr.longform import Chunking, recording_logits, stitch, words_with_times

FRAME = 320


def tiny_model(tiny_config, tokenizer):
    torch.manual_seed(0)
    network = model.build("scratch", tiny_config, {}, tokenizer, seed=0).eval()
    return network, model.processor(tokenizer, network.config, 16000)


@pytest.mark.parametrize("length", [100, 3200, 11940, 32000, 100_001])
@pytest.mark.parametrize("chunk, overlap", [(10, 4), (10, 2), (25, 6)])
def test_stitched_frames_cover_the_recording_once_and_in_order(length, chunk, overlap):
    chunking = Chunking(samples=chunk * FRAME, overlap=overlap * FRAME, frame=FRAME)
    starts = chunking.starts(length)
    assert starts[0] == 0 and starts[-1] + chunking.samples >= length
    # Each fake piece holds the global index of each of its frames; a chunk's last frame is
    # missing, as the conv receptive field leaves it out.
    pieces = [torch.arange(s // FRAME, s // FRAME + max(0, (min(length, s + chunking.samples) - s) // FRAME - 1))
              for s in starts]
    stitched = stitch(pieces, starts, chunking)
    expected_end = pieces[-1][-1] + 1 if len(pieces[-1]) else 0
    assert torch.equal(stitched, torch.arange(expected_end))


def test_chunking_rounds_to_whole_frames_and_keeps_an_overlap(tiny_config, tokenizer):
    network, _ = tiny_model(tiny_config, tokenizer)
    chunking = Chunking.of(network, 16000, chunk_seconds=1.01, overlap_seconds=0.0)
    assert chunking.frame == FRAME
    assert chunking.samples % FRAME == 0 and chunking.overlap % FRAME == 0
    assert chunking.overlap >= 2 * FRAME


def test_a_recording_shorter_than_a_chunk_gets_the_plain_logits(tiny_config, tokenizer):
    network, _ = tiny_model(tiny_config, tokenizer)
    clip = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    chunked = recording_logits(network, clip, Chunking.of(network, 16000, 5.0, 1.0))
    assert torch.allclose(chunked, inference.logits(network, [clip])[0], atol=1e-5)


def test_a_long_recording_gets_one_frame_per_stride(tiny_config, tokenizer):
    network, _ = tiny_model(tiny_config, tokenizer)
    clip = np.random.default_rng(0).standard_normal(16000 * 7 + 123).astype(np.float32)
    chunked = recording_logits(network, clip, Chunking.of(network, 16000, 1.0, 0.2), batch_size=3)
    assert abs(len(chunked) - int(output_frames(network.config, len(clip)))) <= 1


def test_word_times_follow_the_ctc_alignment(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    pad = tokenizer.pad_token_id
    frames = ["h", "e", None, "l", None, "l", "o", None, "|", "|", None, None, "w", "o", "r", "l", "d", None]
    ids = [pad if f is None else tokenizer.convert_tokens_to_ids(f) for f in frames]
    scores = torch.nn.functional.one_hot(torch.tensor(ids), network.config.vocab_size).float()
    text, words = words_with_times(network, processor, scores, 16000)
    assert text == "hello world"
    assert [w["word"] for w in words] == ["hello", "world"]
    assert words[0]["start"] == 0.0 and words[1]["start"] == pytest.approx(12 * 0.02)
    assert words[0]["end"] <= words[1]["start"] and words[1]["end"] == pytest.approx(17 * 0.02)


def test_two_delimiters_in_a_row_give_one_space(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    pad = tokenizer.pad_token_id
    frames = ["a", "|", None, "|", "c", "a", "t"]
    ids = [pad if f is None else tokenizer.convert_tokens_to_ids(f) for f in frames]
    scores = torch.nn.functional.one_hot(torch.tensor(ids), network.config.vocab_size).float()
    text, words = words_with_times(network, processor, scores, 16000)
    assert text == inference.greedy_text(processor, scores) == "a cat"
    assert [w["word"] for w in words] == ["a", "cat"]
