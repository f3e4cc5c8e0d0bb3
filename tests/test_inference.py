import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

from ctc_asr.decoding import inference
from ctc_asr.network import batches, model
from ctc_asr.network.geometry import output_frames


def tiny_model(tiny_config, tokenizer, **changes):
    torch.manual_seed(0)
    network = model.build("scratch", {**tiny_config, **changes}, {}, tokenizer, seed=0).eval()
    return network, model.processor(tokenizer, network.config, 16000)


def clips_of(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(np.float32) for n in lengths]


def one_at_a_time(network, processor, clips):
    return [inference.greedy_texts(network, processor, [clip], batch_size=1)[0] for clip in clips]


def test_batched_layer_norm_transcription_equals_one_at_a_time(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    clips = clips_of([16000, 800, 4000, 9000])
    assert inference.greedy_texts(network, processor, clips, batch_size=4) == one_at_a_time(network, processor, clips)


def test_batched_clips_of_equal_length_keep_input_order(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    clips = clips_of([6000, 2000, 6000, 2000, 4000, 4000])  # sorted in pairs of equal length
    singles = one_at_a_time(network, processor, clips)
    assert len(set(singles)) == len(singles)  # otherwise a mix-up would go unseen
    assert inference.greedy_texts(network, processor, clips, batch_size=2) == singles


def test_output_order_matches_input_order(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    clips = clips_of([9000, 1000, 5000, 3000])
    singles = one_at_a_time(network, processor, clips)
    assert len(set(singles)) == len(singles)
    assert inference.greedy_texts(network, processor, clips, batch_size=1) == singles
    reversed_texts = inference.greedy_texts(network, processor, clips[::-1], batch_size=1)
    assert reversed_texts == singles[::-1]


def alone(network, clip):
    """The reference: one clip, no padding, no mask, no clip-wise norm; the plain HF call."""
    with torch.inference_mode():
        return network(torch.from_numpy(batches.standardize(clip))[None]).logits[0]


BASE = dict()  # Wav2Vec2Config() defaults are wav2vec2-base: group norm, no stable layer norm
# wav2vec2-large's widths and layer-norm front end; 2 of its 24 layers are enough to see any leak from padding
LARGE = dict(hidden_size=1024, num_hidden_layers=2, num_attention_heads=16, intermediate_size=4096,
             feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)


@pytest.mark.parametrize("architecture", [BASE, LARGE], ids=["base", "large"])
def test_batched_logits_equal_one_clip_at_a_time_for_full_size_configs(architecture):
    torch.manual_seed(0)
    network = Wav2Vec2ForCTC(Wav2Vec2Config(**architecture)).eval()
    clips = clips_of([48000, 2400, 16000, 700])  # 3 s next to 0.15 s: mostly padding for the short ones
    batched = inference.logits(network, clips, batch_size=4)
    for clip, scores in zip(clips, batched):
        expected = alone(network, clip)
        assert scores.shape == expected.shape
        assert torch.max(torch.abs(scores - expected)) <= 1e-4
        assert torch.equal(scores.argmax(-1), expected.argmax(-1))


def test_without_the_clip_wise_norm_a_group_norm_batch_is_not_exact():
    # Guards the test above: padding really does change a group-norm model's output.
    torch.manual_seed(0)
    network = Wav2Vec2ForCTC(Wav2Vec2Config(num_hidden_layers=2)).eval()
    clips = clips_of([32000, 2400])
    batch = batches.pad(clips)
    with torch.inference_mode():
        padded = network(**batch).logits[1, :output_frames(network.config, 2400)]
    assert torch.max(torch.abs(padded - alone(network, clips[1]))) > 1e-2


def test_group_norm_transcripts_are_the_same_batched_or_not(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer, feat_extract_norm="group", do_stable_layer_norm=False)
    clips = clips_of([12000, 1000, 5000])
    assert inference.greedy_texts(network, processor, clips, batch_size=8) == one_at_a_time(network, processor, clips)


def test_a_clip_too_short_for_one_frame_gets_no_logits_and_no_text(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    scores = inference.logits(network, clips_of([300, 8000]))
    assert scores[0].shape == (0, network.config.vocab_size)
    assert scores[1].shape[0] == output_frames(network.config, 8000) > 0
    assert inference.greedy_texts(network, processor, clips_of([300]))[0] == ""


def test_frames_match_the_model_own_count(tiny_config, tokenizer):
    network, _ = tiny_model(tiny_config, tokenizer)
    sizes = torch.tensor([400, 401, 16000, 12345])
    assert torch.equal(output_frames(network.config, sizes), network._get_feat_extract_output_lengths(sizes))


def test_transcribe_puts_the_model_in_eval_mode(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    network.train()
    inference.greedy_texts(network, processor, clips_of([2000]))
    assert not network.training


def test_no_clips_give_no_texts(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    assert inference.greedy_texts(network, processor, []) == []
