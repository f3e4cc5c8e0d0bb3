"""Beam search with the n-gram LM: pyctcdecode on numpy 2, the tuning grid, and a folder transformers loads with its LM."""

import json

import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor, pipeline

from ctc_asr.data import vocab
from ctc_asr.decoding import beam, ngram, recogniser
from ctc_asr.decoding.inference import greedy_text

SENTENCES = ["the cat sat on the mat", "a cat ran to the mat", "the dog sat on a log", "a dog ran to the log"]


@pytest.fixture
def processor(tmp_path) -> Wav2Vec2Processor:
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(vocab.build("abcdefghijklmnopqrstuvwxyz", "words")))
    features = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True)
    return Wav2Vec2Processor(feature_extractor=features, tokenizer=vocab.tokenizer(path, "words"))


@pytest.fixture
def lm_dir(tmp_path):
    folder = tmp_path / "lm"
    folder.mkdir()
    model = ngram.estimate([s.split() for s in SENTENCES], 3)
    ngram.write_arpa(model, folder / ngram.ARPA)
    (folder / ngram.UNIGRAMS).write_text("".join(w + "\n" for w in model.words))
    return folder


def frames_for(processor, text: str, confusions: dict[int, str]) -> torch.Tensor:
    """Logits spelling `text` one character a frame (blank between), except that at each position in
    `confusions` another character scores a little higher than the right one."""
    ids = processor.tokenizer.get_vocab()
    blank = processor.tokenizer.pad_token_id
    rows = []
    for k, char in enumerate(text):
        row = np.full(len(ids), -8.0)
        row[ids["|" if char == " " else char]] = 0.0
        if k in confusions:
            row[ids[confusions[k]]] = 0.3
        rows += [row, np.where(np.arange(len(ids)) == blank, 0.0, -8.0)]
    return torch.tensor(np.stack(rows), dtype=torch.float32)


def test_the_lm_corrects_what_greedy_decoding_gets_wrong(processor, lm_dir):
    text = "the cat sat on the mat"
    scores = frames_for(processor, text, {4: "k", 9: "e", 12: "u"})  # "kat", "set", "un"
    assert greedy_text(processor, scores) == "the kat set un the mat"
    decoder = beam.decoder(processor, lm_dir, alpha=0.5, beta=1.0)
    assert beam.beam_texts(decoder, [scores], beam_width=20, processes=1) == [text]


def test_pooled_decoding_equals_one_process_and_empty_logits_give_empty_text(processor, lm_dir):
    decoder = beam.decoder(processor, lm_dir, alpha=0.5, beta=1.0)
    clips = [frames_for(processor, s, {2: "x"}) for s in SENTENCES] + [torch.zeros(0, len(processor.tokenizer))]
    alone = beam.beam_texts(decoder, clips, beam_width=20, processes=1)
    assert beam.beam_texts(decoder, clips, beam_width=20, processes=2) == alone
    assert alone[-1] == "" and alone[0] == SENTENCES[0]


def test_tune_ranks_the_grid_and_keeps_the_best_weights(processor, lm_dir, tmp_path):
    clips = [frames_for(processor, s, {4: "k", 9: "e"}) for s in SENTENCES]
    decoder = beam.decoder(processor, lm_dir, alpha=0.0, beta=0.0)
    grid = beam.tune(decoder, clips, SENTENCES, alphas=[0.0, 0.5], betas=[0.0, 1.0], beam_width=20)
    assert len(grid) == 4 and grid["wer"].is_monotonic_increasing
    assert grid["wer"].iloc[0] < grid.loc[grid["alpha"] == 0.0, "wer"].min()  # alpha 0 is greedy-like: the LM must win
    beam.save(tmp_path / "folder", processor, decoder)
    saved = json.loads((tmp_path / "folder" / "language_model" / "attrs.json").read_text())
    assert (saved["alpha"], saved["beta"]) == (grid["alpha"].iloc[0], grid["beta"].iloc[0])


@pytest.fixture
def model_folder(tmp_path, processor, lm_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "asr"
    config = Wav2Vec2Config(vocab_size=len(processor.tokenizer), hidden_size=32, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=37, conv_dim=(8, 8), conv_kernel=(10, 3),
                            conv_stride=(5, 2), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                            pad_token_id=processor.tokenizer.pad_token_id)
    torch.manual_seed(0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    beam.save(folder, processor, beam.decoder(processor, lm_dir, alpha=0.5, beta=1.0))
    return folder


def test_the_saved_folder_loads_with_its_lm_through_transformers(model_folder, processor):
    from transformers import Wav2Vec2ProcessorWithLM

    loaded = Wav2Vec2ProcessorWithLM.from_pretrained(model_folder)
    scores = frames_for(processor, "the cat sat", {4: "k"})
    assert loaded.decode(scores.numpy()).text == "the cat sat"


def test_the_saved_decoder_loads_with_pyctcdecode_alone(model_folder, processor):
    from pyctcdecode import BeamSearchDecoderCTC

    decoder = BeamSearchDecoderCTC.load_from_dir(str(model_folder))
    scores = frames_for(processor, "the cat sat", {4: "k"})
    assert decoder.decode(scores.numpy()) == "the cat sat"
    assert (decoder._language_model.alpha, decoder._language_model.beta) == (0.5, 1.0)  # the tuned weights travel


def test_one_loader_reads_the_decoder_and_the_beam_width_saved_with_the_folder(tmp_path, model_folder, lm_dir, processor):
    (model_folder / recogniser.SETTINGS).write_text('{"beam_width": 7}')
    model = recogniser.load(model_folder)
    assert model.beam_width == 7 and model.decoder is not None
    scores = frames_for(processor, "the cat sat", {4: "k"})
    assert beam.beam_texts(model.decoder, [scores], model.beam_width, processes=1) == ["the cat sat"]
    assert recogniser.load(model_folder, with_lm=False).decoder is None


def test_the_asr_pipeline_decodes_with_the_lm(model_folder):
    asr = pipeline("automatic-speech-recognition", model=str(model_folder))
    assert asr.type == "ctc_with_lm"  # not a silent fall back to greedy decoding
    out = asr(np.random.default_rng(0).standard_normal(16000).astype(np.float32))
    assert isinstance(out["text"], str)


def test_a_folder_without_an_lm_decodes_greedily(tmp_path, model_folder):
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("config.json", "model.safetensors", "preprocessor_config.json", "tokenizer_config.json", "vocab.json"):
        (plain / name).write_bytes((model_folder / name).read_bytes())
    model = recogniser.load(plain)
    assert model.decoder is None and type(model.processor) is Wav2Vec2Processor
