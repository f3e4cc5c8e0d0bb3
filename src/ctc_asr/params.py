"""Typed, validated pipeline params: an unknown key or a wrong type is rejected by name."""

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import UserError


ENGLISH_ACCENTS = ("en", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                   "en-gb-x-rp", "en-us", "en-us-nyc")
HUMAN_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f4",
                  "klatt", "klatt2", "klatt3", "klatt4", "Andy", "Annie", "Lee", "Michael", "aunty",
                  "edward", "john", "linda", "max", "paul", "robert", "steph", "travis")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticParams(Section):
    sentences: str = "harvard"
    test_sentences: int = Field(120, ge=1)
    train_speakers: int = Field(32, ge=1)
    test_speakers: int = Field(8, ge=1)
    utterances_per_speaker: int = Field(20, ge=1)
    accents: list[str] = Field(default_factory=lambda: list(ENGLISH_ACCENTS), min_length=1)
    variants: list[str] = Field(default_factory=lambda: list(HUMAN_VARIANTS), min_length=1)
    words_per_minute: tuple[int, int] = (120, 200)
    pitch: tuple[int, int] = (30, 70)
    jitter: float = Field(0.05, ge=0, le=0.5)
    seed: int = 0

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("words_per_minute", "pitch"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: [{low}, {high}] is not a range (low > high)")
        return self


class TimitParams(Section):
    root: str | None = None
    keep_sa: bool = False
    test_set: Literal["full", "core", "dev"] = "full"


class HubParams(Section):
    name: str | None = None
    config: str | None = None
    revision: str | None = None
    data_dir: str | None = None
    train_split: str = "train"
    test_split: str = "test"
    audio_column: str = "audio"
    text_column: str = "text"
    speaker_column: str | None = None
    limit: int | None = Field(None, ge=1)


class RecordingsParams(Section):
    path: str | None = None


# The key each source cannot do without.
REQUIRED = {"timit": "root", "hub": "name", "manifest": "path"}


class DataParams(Section):
    source: Literal["synthetic", "timit", "hub", "manifest"] = "synthetic"
    on_error: Literal["fail", "skip"] = "fail"
    max_seconds: float = Field(60.0, gt=0)
    synthetic: SyntheticParams = SyntheticParams()
    timit: TimitParams = TimitParams()
    hub: HubParams = HubParams()
    manifest: RecordingsParams = RecordingsParams()

    @model_validator(mode="after")
    def _source_has_its_key(self):
        key = REQUIRED.get(self.source)
        if key and getattr(getattr(self, self.source), key) is None:
            raise ValueError(f"data.{self.source}.{key} is required when data.source is {self.source}")
        return self


class NormalizeParams(Section):
    chars_to_ignore: str = ',?.!-;:"'


class EncodeParams(Section):
    sample_rate: int = Field(16000, gt=0)


class FilterParams(Section):
    min_seconds: float = Field(0.0, ge=0)
    max_seconds: float = Field(4.0, gt=0)

    @model_validator(mode="after")
    def _range(self):
        if self.max_seconds <= self.min_seconds:
            raise ValueError(
                f"max_seconds ({self.max_seconds}) must be greater than min_seconds ({self.min_seconds})"
            )
        return self


class ModelParams(Section):
    pretrained: str = "scratch"
    scratch: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)


class TrainParams(Section):
    epochs: float = Field(10, gt=0)
    batch_seconds: float = Field(60, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(100, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    freeze_feature_encoder: bool = False
    log_every: int = Field(10, ge=1)
    eval_every: int = Field(100, ge=1)
    eval_utterances: int = Field(64, ge=1)
    seed: int = 0
    pad_multiple_seconds: float = Field(0.25, ge=0)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    gradient_checkpointing: bool = False
    compile: bool = False
    workers: int = Field(2, ge=0)
    gpus: int = Field(1, ge=1)
    checkpoint_every: int = Field(200, ge=0)


class EvaluateParams(Section):
    batch_size: int = Field(16, ge=1)
    duration_buckets: list[float] = Field(default_factory=lambda: [2.0, 4.0, 8.0])
    group_by: list[str] = Field(default_factory=lambda: ["speaker"])
    top_errors: int = Field(20, ge=1)

    @model_validator(mode="after")
    def _increasing(self):
        edges = self.duration_buckets
        if any(e <= 0 for e in edges) or edges != sorted(set(edges)):
            raise ValueError(f"duration_buckets must be positive and increasing (got {edges})")
        return self


class GateParams(Section):
    max_wer_increase: float = Field(0.0, ge=0)
    max_cer_increase: float = Field(0.0, ge=0)


class Params(Section):
    data: DataParams = DataParams()
    normalize: NormalizeParams = NormalizeParams()
    encode: EncodeParams = EncodeParams()
    filter: FilterParams = FilterParams()
    model: ModelParams = ModelParams()
    train: TrainParams = TrainParams()
    evaluate: EvaluateParams = EvaluateParams()
    gate: GateParams = GateParams()


def _describe(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] != "extra_forbidden" and "input" in error and not isinstance(error["input"], dict):
        message += f" (got {error['input']!r})"
    return message if message.startswith(f"{key}.") else f"{key}: {message}"


def parse(raw: dict, source: str = "params") -> Params:
    """Validate a params mapping; every problem is named by its dotted key."""
    try:
        return Params.model_validate(raw or {})
    except ValidationError as error:
        problems = "; ".join(_describe(e) for e in error.errors())
        raise UserError(f"{source}: {problems}") from None


def load(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such params file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML ({error})".replace("\n", " ")) from None
    if raw is not None and not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    return parse(raw, str(path))
