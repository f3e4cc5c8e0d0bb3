"""Fixtures shared by several test files: params.yaml's values, a tiny wav2vec2 config, a vocab, a store, the tiny run."""

import json
import os
from pathlib import Path

# Never reach for the model hub: a missing model must fail at once, not after a timeout.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import e2e
import numpy as np
import pytest
import torch

from ctc_asr.core import params
from ctc_asr.data import store as store_module
from ctc_asr.data import vocab as vocab_module

# Models this small gain nothing from more threads, and test processes run side by side.
torch.set_num_threads(1)

PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"

SAMPLE_RATE = 16000
SENTENCES = ["hello world", "a cat sat", "the dog ran", "don't look"]


@pytest.fixture(scope="session")
def defaults() -> params.Params:
    """The project's params.yaml: the one home of every default (change a section with `.replace`)."""
    return params.load(PARAMS_FILE)


@pytest.fixture
def tiny_config() -> dict:
    """Wav2Vec2Config fields of a model small enough to run in milliseconds (layer norm)."""
    return dict(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        conv_dim=[8] * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer", do_stable_layer_norm=True,
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
        final_dropout=0.0, layerdrop=0.0, mask_time_prob=0.0,
    )


@pytest.fixture
def vocab_dict() -> dict[str, int]:
    return vocab_module.build(SENTENCES, "words")


@pytest.fixture
def vocab_file(tmp_path, vocab_dict):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(vocab_dict))
    return path


@pytest.fixture
def tokenizer(vocab_file):
    return vocab_module.tokenizer(vocab_file, "words")


def write_store(folder: Path, clips, labels, splits=None, texts=None, dtype="float32") -> store_module.Store:
    """A store of `clips` (at SAMPLE_RATE) and their `labels` in `folder`, written with store.Writer: ids utt0, utt1, ...,
    every clip in train unless `splits` says otherwise."""
    splits = splits or ["train"] * len(clips)
    texts = texts or [""] * len(clips)
    with store_module.Writer(folder, SAMPLE_RATE, dtype) as writer:
        for k, (clip, label) in enumerate(zip(clips, labels)):
            writer.add({"id": f"utt{k}", "split": splits[k], "text": texts[k]}, clip, label)
    return store_module.Store(folder)


@pytest.fixture(scope="session")
def store_writer():
    """`write_store`, for fixtures of wider scope than make_store's."""
    return write_store


@pytest.fixture
def make_store(tmp_path):
    """make_store(clips, labels, splits=None, texts=None, dtype="float32") -> Store written with store.Writer.

    float32 by default: the tests' clips are random normal samples, far outside int16's full scale."""
    count = iter(range(1000))

    def make(clips, labels, splits=None, texts=None, dtype="float32"):
        return write_store(tmp_path / f"store{next(count)}", clips, labels, splits, texts, dtype)

    return make


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, worker_id) -> tuple[Path, str]:
    """The tiny project after one `dvc repro` and that repro's output, built once for the session however many
    xdist workers run it (their base folders share a parent). Copy it before changing anything: `e2e.tiny_copy`."""
    shared = tmp_path_factory.getbasetemp()
    return e2e.tiny_run(shared if worker_id == "master" else shared.parent)


def pytest_collection_modifyitems(items):
    """The tests that copy the session's tiny run first: with `--dist worksteal` they start on one worker, which
    builds the run while the other works through the unit tests, instead of both waiting for it."""
    items.sort(key=lambda item: "tiny_run" not in item.fixturenames)
