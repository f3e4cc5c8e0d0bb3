"""Wav2Vec2ForCTC and its processor: from a hub id, a local directory, or a small scratch config."""

import json
from pathlib import Path
from typing import Any

import torch
from transformers import Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr.core.errors import UserError
from ctc_asr.core.seeds import stream

SCRATCH = "scratch"


def device() -> torch.device:
    """Where training and inference run: the GPU when there is one (under torchrun, the
    process's own: distributed.join makes it the current device)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _check_keys(fields: dict[str, Any], where: str) -> None:
    known = Wav2Vec2Config().to_dict()
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise UserError(f"{where}: {', '.join(unknown)} not a Wav2Vec2Config field")


def _load_error(pretrained: str, error: OSError) -> UserError:
    first_line = str(error).strip().splitlines()[0]
    return UserError(f"model.pretrained: cannot load {pretrained!r} ({first_line})")


def _is_local(pretrained: str) -> bool:
    """Whether `pretrained` names a folder rather than a hub id ("name" or "org/name"): it looks like
    a path, has more than a hub id's one slash, or exists."""
    return (pretrained.startswith(("/", "~", "./", "../")) or pretrained in (".", "..")
            or len(Path(pretrained).parts) > 2 or Path(pretrained).exists())


def _located(pretrained: str) -> str:
    """`pretrained` as from_pretrained should get it: a local folder checked (transformers would look
    a missing one up on the hub, and take a folder without config.json for a default config)."""
    if not _is_local(pretrained):
        return pretrained
    folder = Path(pretrained).expanduser()
    if not folder.exists():
        raise UserError(f"model.pretrained: {pretrained}: no such folder")
    if not folder.is_dir():
        raise UserError(f"model.pretrained: {pretrained}: not a folder")
    if not (folder / "config.json").is_file():
        raise UserError(f"model.pretrained: {pretrained}: not a model folder (no config.json)")
    return str(folder)


def architecture(pretrained: str, scratch: dict[str, Any], overrides: dict[str, Any]) -> Wav2Vec2Config:
    """The config `build` would give the model, without loading any weights."""
    _check_keys(overrides, "model.config")
    if pretrained == SCRATCH:
        _check_keys(scratch, "model.scratch")
        return Wav2Vec2Config(**{**scratch, **overrides})
    try:
        return Wav2Vec2Config.from_pretrained(_located(pretrained), **overrides)
    except OSError as error:
        raise _load_error(pretrained, error) from None


def build(pretrained: str, scratch: dict[str, Any], overrides: dict[str, Any], tokenizer: Wav2Vec2CTCTokenizer,
          *, seed: int) -> Wav2Vec2ForCTC:
    """A CTC model whose output layer matches `tokenizer`, with `[PAD]` as the blank.

    `scratch` is the architecture when `pretrained` is "scratch"; `overrides` (dropout,
    masking, CTC loss options) apply either way. The weights a scratch model starts from,
    and a pretrained model's new output layer, are drawn from `seed` alone (its "weights"
    stream, see seeds.py): the global random state is neither read nor changed.
    """
    head = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    config = architecture(pretrained, scratch, {**overrides, **head})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stream(seed, "weights"))
        if pretrained == SCRATCH:
            return Wav2Vec2ForCTC(config)
        # A checkpoint fine-tuned on another alphabet has a head of another size: replace it.
        try:
            return Wav2Vec2ForCTC.from_pretrained(_located(pretrained), config=config, ignore_mismatched_sizes=True)
        except OSError as error:  # a config.json without weights beside it
            raise _load_error(pretrained, error) from None


def processor(tokenizer: Wav2Vec2CTCTokenizer, config: Wav2Vec2Config, sample_rate: int) -> Wav2Vec2Processor:
    """Normalise each clip; pass an attention mask only to layer-norm models.

    HF's convention: group-norm models (wav2vec2-base, and the scratch default) get no mask,
    since wav2vec2-base was pre-trained on unmasked zero padding; layer-norm models (large)
    get one. This project's own batching always passes a mask and keeps group norm exact
    (group_norm.py); the processor is for users of the saved model.
    """
    features = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=sample_rate, padding_value=0.0, do_normalize=True,
        return_attention_mask=config.feat_extract_norm == "layer",
    )
    return Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer)


def save_processor(processor: Wav2Vec2Processor, folder: Path, processor_class: str = "Wav2Vec2Processor") -> None:
    """The processor's files, in the layout every transformers from 4.45 on reads, naming `processor_class`
    (Wav2Vec2ProcessorWithLM where a pyctcdecode decoder is saved beside: the HF pipeline then decodes with it).

    transformers 5 nests the feature extractor's settings in processor_config.json and writes no
    preprocessor_config.json; 4.x needs that file and fails on the nested form. Both read the
    older layout: the feature extractor's settings, naming the processor class, in
    preprocessor_config.json, as hub checkpoints such as wav2vec2-base have them.
    """
    folder = Path(folder)
    processor.tokenizer._set_processor_class(processor_class)
    processor.tokenizer.save_pretrained(folder)
    settings = {**processor.feature_extractor.to_dict(), "processor_class": processor_class}
    (folder / "preprocessor_config.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
