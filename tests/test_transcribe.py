import numpy as np
import pytest
import torch

from ctc_asr import model, transcribe


def tiny_model(tiny_config, tokenizer, **changes):
    torch.manual_seed(0)
    network = model.build("scratch", {**tiny_config, **changes}, {}, tokenizer).eval()
    return network, model.processor(tokenizer, network.config, 16000)


def clips_of(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(np.float32) for n in lengths]


def one_at_a_time(network, processor, clips):
    return [transcribe.transcribe(network, processor, [clip], batch_size=1)[0] for clip in clips]


def test_batched_layer_norm_transcription_equals_one_at_a_time(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    clips = clips_of([16000, 800, 4000, 9000])
    assert transcribe.transcribe(network, processor, clips, batch_size=4) == one_at_a_time(network, processor, clips)


def test_batched_clips_of_equal_length_keep_input_order(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    clips = clips_of([6000, 2000, 6000, 2000, 4000, 4000])  # sorted in pairs of equal length
    singles = one_at_a_time(network, processor, clips)
    assert len(set(singles)) == len(singles)  # otherwise a mix-up would go unseen
    assert transcribe.transcribe(network, processor, clips, batch_size=2) == singles


def test_output_order_matches_input_order(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    clips = clips_of([9000, 1000, 5000, 3000])
    singles = one_at_a_time(network, processor, clips)
    assert len(set(singles)) == len(singles)
    assert transcribe.transcribe(network, processor, clips, batch_size=1) == singles
    reversed_texts = transcribe.transcribe(network, processor, clips[::-1], batch_size=1)
    assert reversed_texts == singles[::-1]


def test_group_norm_model_is_transcribed_one_clip_at_a_time(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer, feat_extract_norm="group", do_stable_layer_norm=False)
    clips = clips_of([12000, 1000, 5000])
    assert transcribe.transcribe(network, processor, clips, batch_size=8) == one_at_a_time(network, processor, clips)


@pytest.mark.parametrize("norm, expected", [("layer", 8), ("group", 1)])
def test_batch_size_for(tiny_config, tokenizer, norm, expected):
    _, processor = tiny_model(tiny_config, tokenizer, feat_extract_norm=norm)
    assert transcribe.batch_size_for(processor, 8) == expected


def test_transcribe_puts_the_model_in_eval_mode(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    network.train()
    transcribe.transcribe(network, processor, clips_of([2000]))
    assert not network.training


def test_no_clips_give_no_texts(tiny_config, tokenizer):
    network, processor = tiny_model(tiny_config, tokenizer)
    assert transcribe.transcribe(network, processor, []) == []
