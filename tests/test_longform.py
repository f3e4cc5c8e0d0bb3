import numpy as np
import pytest
import torch

from ctc_asr.decoding import beam, inference, ngram
from ctc_asr.decoding.longform import Chunking, chunks, recording_logits, segments, stitch, streamed_logits, words_with_times
from ctc_asr.decoding.recogniser import Recogniser
from ctc_asr.network import model
from ctc_asr.network.geometry import output_frames

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
    text, words = words_with_times(Recogniser(network, processor), scores, 16000)
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
    text, words = words_with_times(Recogniser(network, processor), scores, 16000)
    assert text == inference.greedy_text(processor, scores) == "a cat"
    assert [w["word"] for w in words] == ["a", "cat"]


@pytest.mark.parametrize("length", [0, 100, 3200, 6400, 6401, 32000, 100_001])
@pytest.mark.parametrize("block", [1, 999, 4096, 200_000])
def test_chunks_from_blocks_are_those_starts_places(length, block):
    chunking = Chunking(samples=20 * FRAME, overlap=4 * FRAME, frame=FRAME)
    recording = np.arange(length, dtype=np.float32)
    placed = list(chunks((recording[i:i + block] for i in range(0, length, block)), chunking))
    assert [s for s, _ in placed] == chunking.starts(length)
    for start, samples in placed:
        np.testing.assert_array_equal(samples, recording[start:start + chunking.samples])


def test_logits_streamed_from_blocks_are_the_whole_recordings(tiny_config, tokenizer):
    network, _ = tiny_model(tiny_config, tokenizer)
    clip = np.random.default_rng(0).standard_normal(16000 * 5 + 77).astype(np.float32)
    chunking = Chunking.of(network, 16000, 1.0, 0.2)
    whole = recording_logits(network, clip, chunking, batch_size=3)
    streamed = torch.cat(list(streamed_logits(network, np.array_split(clip, 13), chunking, batch_size=3)))
    assert torch.allclose(streamed, whole, atol=1e-5)


def test_logits_stream_before_the_recording_is_read(tiny_config, tokenizer):
    """What is held does not grow with the recording: the first frames come after a batch's worth of audio."""
    network, _ = tiny_model(tiny_config, tokenizer)
    read = []

    def endless():
        while True:
            read.append(1600)
            yield np.zeros(1600, np.float32)

    next(streamed_logits(network, endless(), Chunking.of(network, 16000, 1.0, 0.2), batch_size=2))
    assert sum(read) <= 3 * 16000


def one_hot(tokenizer, frames: list, vocab_size: int, scale: float = 1.0) -> torch.Tensor:
    """Logits spelling `frames` (a token per frame, None for blank)."""
    ids = [tokenizer.pad_token_id if f is None else tokenizer.convert_tokens_to_ids(f) for f in frames]
    return scale * torch.nn.functional.one_hot(torch.tensor(ids), vocab_size).float()


def test_segments_are_cut_in_the_middle_of_the_longest_pause_in_their_last_half(tokenizer):
    frames = list("hello") + [None] * 3 + list("cat") + [None] * 7 + list("dog") + [None] * 2 + list("sat")
    scores = one_hot(tokenizer, frames, len(tokenizer))
    quiet = [tokenizer.pad_token_id]
    cut = segments([scores[:4], scores[4:13], scores[13:]], quiet, most=20)
    (first, a), (second, b) = list(cut)
    assert (first, len(a)) == (0, 11 + 3) and second == 14  # the middle of the 7 blanks after "cat"
    assert torch.equal(torch.cat([a, b]), scores)
    # no quiet frame at all: fixed pieces
    speech = one_hot(tokenizer, list("hello") * 5, len(tokenizer))
    assert [(f, len(s)) for f, s in segments([speech], quiet, most=10)] == [(0, 10), (10, 10), (20, 5)]


@pytest.fixture
def lm_decoder(tmp_path, tiny_config, tokenizer):
    _, processor = tiny_model(tiny_config, tokenizer)
    sentences = [s.split() for s in ["hello world", "a cat sat", "the dog ran", "hello a cat"]]
    model_ = ngram.estimate(sentences, 3)
    ngram.write_arpa(model_, tmp_path / ngram.ARPA)
    (tmp_path / ngram.UNIGRAMS).write_text("".join(w + "\n" for w in model_.words))
    return beam.decoder(processor, tmp_path, alpha=0.5, beta=1.0)


@pytest.mark.parametrize("with_lm", [False, True], ids=["greedy", "lm"])
def test_a_two_piece_decode_shifts_word_times_by_the_segments_start(tiny_config, tokenizer, lm_decoder, with_lm):
    network, processor = tiny_model(tiny_config, tokenizer)
    model = Recogniser(network, processor, lm_decoder if with_lm else None, 50)
    spoken = ["h", "e", None, "l", None, "l", "o", "|", "w", "o", "r", "l", "d", "|"] + [None] * 40 + list("a|cat")
    scores = one_hot(tokenizer, spoken, network.config.vocab_size, scale=20.0)
    one_piece = words_with_times(model, scores, 16000, segment_seconds=10.0)
    two_pieces = words_with_times(model, scores, 16000, segment_seconds=0.02 * 40)
    assert len(list(segments([scores], [tokenizer.pad_token_id], 40))) == 2
    assert one_piece[0] == two_pieces[0] == "hello world a cat"
    assert two_pieces[1] == one_piece[1]
    assert [w["start"] for w in two_pieces[1]] == pytest.approx([0.0, 8 * 0.02, 54 * 0.02, 56 * 0.02])
    assert two_pieces[1][-1]["end"] == pytest.approx(59 * 0.02)


def test_a_short_clips_text_is_the_one_piece_beam_search_transformers_runs(tiny_config, tokenizer, lm_decoder):
    from transformers import Wav2Vec2ProcessorWithLM

    network, processor = tiny_model(tiny_config, tokenizer)
    clip = np.random.default_rng(1).standard_normal(16000 * 4).astype(np.float32)
    scores = inference.logits(network, [clip])[0]
    text, words = words_with_times(Recogniser(network, processor, lm_decoder, 50), scores, 16000)
    with_lm = Wav2Vec2ProcessorWithLM(processor.feature_extractor, processor.tokenizer, lm_decoder)
    decoded = with_lm.decode(scores.numpy(), beam_width=50, output_word_offsets=True)
    assert text == inference.single_spaced(decoded.text)
    assert [(w["word"], w["start"]) for w in words] == [(o["word"], round(o["start_offset"] * 0.02, 3))
                                                        for o in decoded.word_offsets if o["word"]]
    assert [w["word"] for w in words] == text.split()
