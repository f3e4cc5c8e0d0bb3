"""Where every stage's outputs live, relative to the project root, and the JSON files stages hand on.

The one place a path is spelled: stages, the command line, the explorer and bench/ name them from here,
and tests/test_layout.py checks them against dvc.yaml's deps and outs. A handed-on file (tune.json to
evaluate, train.json and lm.json to the model card, eval.json to the gate) is written and read through
its model below, so a key renamed on one side cannot go unnoticed on the other.
"""

import json
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ctc_asr.core.errors import UserError
from ctc_asr.core.outputs import write_json

# data: the corpus as it moves through the stages
RAW = Path("data/raw")                              # download: audio files and their manifest
MANIFEST = RAW / "manifest.tsv"
TRANSCRIPTS = Path("data/text/transcripts.tsv")     # normalize
VOCAB = Path("data/vocab.json")                     # vocab
LM = Path("data/lm")                                # lm: the n-gram in ARPA format and its unigrams
ENCODED = Path("data/encoded")                      # encode: the memory-mapped store
DECISIONS = Path("data/filtered/decisions.tsv")     # filter: kept or why not, per training clip

# models
TRAINED = Path("models/ctc")                        # train: network and processor
CHECKPOINT = Path("models/checkpoint")              # train's resumable state (not a DVC output)
ASR = Path("models/asr")                            # evaluate: the trained folder with its LM decoder and card

# metrics: small files git tracks
METRICS = Path("metrics")
REJECTS = METRICS / "rejects"                       # <stage>.tsv: what data.on_error skipped, and why
TIMING = METRICS / "timing"                         # <stage>.json: seconds, apart from the metrics (they differ run to run)
TRAIN_HISTORY = METRICS / "train"                   # steps.tsv, eval.tsv
TUNE_GRID = METRICS / "tune" / "grid.tsv"
PREDICTIONS = METRICS / "predictions.tsv"           # evaluate: every test clip, its reference and hypotheses
EVAL_DETAILS = METRICS / "eval"                     # evaluate: by_<group>.tsv, top_errors.tsv, confusions.tsv, ...
EVAL_SUMMARY = EVAL_DETAILS / "summary.json"        # ... and the counts behind eval.json's rates


def stage_metrics(stage: str) -> Path:
    """metrics/<stage>.json: what a stage counted or measured."""
    return METRICS / f"{stage}.json"


def rejects(stage: str) -> Path:
    return REJECTS / f"{stage}.tsv"


def timing(stage: str) -> Path:
    return TIMING / f"{stage}.json"


class HandedOn(BaseModel):
    """A JSON file one stage writes and another reads; keys beyond the model are kept as they are."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    def read(cls, path: Path | None = None):
        path = Path(path or cls.PATH)
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise UserError(f"{path}: not found (run `dvc repro` first)") from None
        except (json.JSONDecodeError, ValidationError) as error:
            raise UserError(f"{path}: not what this version writes ({str(error).splitlines()[0]})") from None

    def write(self, path: Path | None = None) -> None:
        # unset optional fields are left out; whatever a stage put among the extras is written as it is
        values = {k: v for k, v in self.model_dump().items() if not (v is None and k in type(self).model_fields)}
        write_json(Path(path or self.PATH), values)


class Rates(BaseModel):
    wer: float
    cer: float


class Tuned(HandedOn):
    """tune -> evaluate: the n-gram's weights that decode dev best (ngram False: no n-gram, decoding is greedy)."""

    PATH: ClassVar[Path] = stage_metrics("tune")
    ngram: bool
    alpha: float | None = None
    beta: float | None = None
    dev_utterances: int | None = None
    dev_greedy: Rates | None = None
    dev_ngram: Rates | None = None


class Trained(HandedOn):
    """train -> the model card: what training kept and did."""

    PATH: ClassVar[Path] = stage_metrics("train")
    train_utterances: int


class LanguageModel(HandedOn):
    """lm -> the model card: the n-gram's size (absent when no LM was built)."""

    PATH: ClassVar[Path] = stage_metrics("lm")
    sentences: int | None = None
    words: int | None = None
    vocabulary: int | None = None


class Evaluated(HandedOn):
    """evaluate -> the gate and the explorer: the test set's headline rates (per for phones, wer and cer
    for words), the decoding they come from, and each decoding's rates side by side."""

    PATH: ClassVar[Path] = stage_metrics("eval")
    decoding: str
    headline: str | None = None
