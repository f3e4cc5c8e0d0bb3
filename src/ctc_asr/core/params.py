"""Typed, validated pipeline params: an unknown key or a wrong type is rejected by name."""

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationError, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict from Python 3.12 on only

from ctc_asr.core.errors import UserError


class Section(BaseModel):
    """A params section. No field has a default: params.yaml is the one place values live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def replace(self, **changes: Any):
        """A validated copy with `changes` applied."""
        return type(self).model_validate({**self.model_dump(), **changes})


class SyntheticParams(Section):
    sentences: str
    test_sentences: int = Field(ge=1)
    dev_sentences: int = Field(ge=1)
    train_speakers: int = Field(ge=1)
    dev_speakers: int = Field(ge=1)
    test_speakers: int = Field(ge=1)
    utterances_per_speaker: int = Field(ge=1)
    accents: list[str] = Field(min_length=1)
    variants: list[str] = Field(min_length=1)
    words_per_minute: tuple[int, int]
    pitch: tuple[int, int]
    jitter: float = Field(ge=0, le=0.5)
    engines: dict[Literal["festival", "flite"], list[str]]
    engine_speakers: int = Field(ge=0)
    engine_pitch_hz: tuple[PositiveFloat, PositiveFloat] | None
    engine_tract: tuple[PositiveFloat, PositiveFloat] | None
    unseen: dict[Literal["festival", "flite"], list[str]]
    seed: int

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("words_per_minute", "pitch", "engine_pitch_hz", "engine_tract"):
            low, high = getattr(self, name) or (0, 0)
            if low > high:
                raise ValueError(f"{name}: [{low}, {high}] is not a range (low > high)")
        if self.engine_speakers and not any(self.engines.values()):
            raise ValueError("engine_speakers: no voices in engines to draw them from")
        heard = set(self.engines) & {engine for engine, voices in self.unseen.items() if voices}
        if heard:
            raise ValueError(f"unseen: {', '.join(sorted(heard))} also speaks in training (engines): not unseen")
        return self


class TimitParams(Section):
    root: str | None
    keep_sa: bool
    test_set: Literal["full", "core"]


class HubParams(Section):
    name: str | None
    config: str | None
    revision: str | None
    data_dir: str | None
    train_split: str
    dev_split: str | None
    test_split: str
    audio_column: str
    text_column: str
    speaker_column: str | None
    phones_column: str | None
    limit: int | None = Field(ge=1)
    streaming: bool


class ManifestParams(Section):
    path: str | None
    phones_column: str | None
    # our name -> the file's: a manifest read as it is written (NeMo's audio_filepath needs none)
    columns: dict[Literal["path", "text", "speaker", "split", "offset", "duration"], str]


def _one_split_each(names: list[str | None], what: str) -> None:
    named = [name for name in names if name is not None]
    if len(set(named)) < len(named):
        raise ValueError(f"{what}: each may make one split only (its speakers would be in two)")


class LibriSpeechParams(Section):
    root: str | None
    train_subsets: list[str] = Field(min_length=1)
    dev_subset: str
    test_subset: str

    @model_validator(mode="after")
    def _subsets_differ(self):
        _one_split_each([*self.train_subsets, self.dev_subset, self.test_subset], "data.librispeech subsets")
        return self


class CommonVoiceParams(Section):
    root: str | None
    train_tsv: str
    dev_tsv: str | None
    test_tsv: str

    @model_validator(mode="after")
    def _tsvs_differ(self):
        _one_split_each([self.train_tsv, self.dev_tsv, self.test_tsv], "data.common_voice TSVs")
        return self


class KaldiParams(Section):
    root: str | None
    train_dir: str
    dev_dir: str | None
    test_dir: str

    @model_validator(mode="after")
    def _dirs_differ(self):
        _one_split_each([self.train_dir, self.dev_dir, self.test_dir], "data.kaldi folders")
        return self


# The key each source cannot do without.
REQUIRED = {"timit": "root", "hub": "name", "manifest": "path", "librispeech": "root", "common_voice": "root",
            "kaldi": "root"}


class DataParams(Section):
    source: Literal["synthetic", "timit", "hub", "manifest", "librispeech", "common_voice", "kaldi"]
    on_error: Literal["fail", "skip"]
    reject_over_seconds: float = Field(gt=0)
    dev_speakers: int = Field(ge=1)
    copy_audio: bool
    workers: int | None = Field(ge=1)
    synthetic: SyntheticParams
    timit: TimitParams
    hub: HubParams
    manifest: ManifestParams
    librispeech: LibriSpeechParams
    common_voice: CommonVoiceParams
    kaldi: KaldiParams

    @model_validator(mode="after")
    def _source_has_its_key(self):
        key = REQUIRED.get(self.source)
        if key and getattr(getattr(self, self.source), key) is None:
            raise ValueError(f"data.{self.source}.{key} is required when data.source is {self.source}")
        return self


class NormalizeParams(Section):
    chars_to_ignore: str
    unicode: Literal["NFC", "NFKC", "none"]
    language: str | None = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")  # ISO 639 code, optionally tagged: tr, zh-CN


class EncodeParams(Section):
    sample_rate: int = Field(gt=0)
    dtype: Literal["int16", "float32"]
    workers: int | None = Field(ge=1)


class FilterParams(Section):
    min_seconds: float = Field(ge=0)
    max_seconds: float = Field(gt=0)

    @model_validator(mode="after")
    def _range(self):
        if self.max_seconds <= self.min_seconds:
            raise ValueError(
                f"max_seconds ({self.max_seconds}) must be greater than min_seconds ({self.min_seconds})"
            )
        return self


# KenLM reads no unigram-only model, and its Python module is built for orders up to 6 (KENLM_MAX_ORDER).
LM_ORDERS = (0, 2, 3, 4, 5, 6)


class NgramParams(Section):
    order: int
    text: str | None

    @field_validator("order")
    @classmethod
    def _kenlm_reads_it(cls, order: int) -> int:
        if order not in LM_ORDERS:
            raise ValueError("0 (no LM) or 2 to 6 (KenLM reads neither a unigram-only model nor one above order 6)")
        return order


class DecodeParams(Section):
    batch_size: int = Field(ge=1)
    beam_width: int = Field(ge=1)
    alpha: list[float] = Field(min_length=1)
    beta: list[float] = Field(min_length=1)


Positive = Annotated[int, Field(ge=1)]
Probability = Annotated[float, Field(ge=0, le=1)]


class Wav2Vec2Fields(TypedDict, total=False):
    """The types of the Wav2Vec2Config fields params set most; any other field passes here and is
    checked by name in model.py."""

    __pydantic_config__ = ConfigDict(extra="allow")
    hidden_size: Positive
    num_hidden_layers: Positive
    num_attention_heads: Positive
    intermediate_size: Positive
    conv_dim: list[Positive]
    conv_kernel: list[Positive]
    conv_stride: list[Positive]
    num_conv_pos_embeddings: Positive
    num_conv_pos_embedding_groups: Positive
    feat_extract_norm: Literal["group", "layer"]
    do_stable_layer_norm: bool
    layerdrop: Probability
    hidden_dropout: Probability
    activation_dropout: Probability
    attention_dropout: Probability
    feat_proj_dropout: Probability
    mask_time_prob: Probability
    ctc_loss_reduction: Literal["sum", "mean"]
    ctc_zero_infinity: bool


# Wav2Vec2Config's defaults of the fields checked together below (tests/test_params.py holds them to it);
# not read from transformers, whose import would slow every stage that loads params.
WAV2VEC2_DEFAULTS = dict(hidden_size=768, num_attention_heads=12, num_conv_pos_embedding_groups=16,
                         conv_dim=[512] * 7, conv_kernel=[10, 3, 3, 3, 3, 2, 2], conv_stride=[5, 2, 2, 2, 2, 2, 2])


class ModelParams(Section):
    pretrained: str
    scratch: Wav2Vec2Fields
    config: Wav2Vec2Fields

    @model_validator(mode="after")
    def _scratch_fits_together(self):
        """What Wav2Vec2Config accepts but the model cannot be built from (a traceback in train otherwise)."""
        if self.pretrained != "scratch":
            return self
        fields = {**WAV2VEC2_DEFAULTS, **self.scratch, **self.config}

        def key(name: str) -> str:
            return f"model.{'config' if name in self.config else 'scratch'}.{name}"

        hidden = fields["hidden_size"]
        for divisor in ("num_attention_heads", "num_conv_pos_embedding_groups"):
            if hidden % fields[divisor]:
                raise ValueError(f"{key('hidden_size')}: {hidden} is not a multiple of {divisor} ({fields[divisor]})")
        lengths = {name: len(fields[name]) for name in ("conv_dim", "conv_kernel", "conv_stride")}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{key('conv_dim')}: conv_dim, conv_kernel and conv_stride need one value per conv layer "
                             f"(lengths {', '.join(f'{n} {k}' for n, k in lengths.items())})")
        return self


class TrainParams(Section):
    epochs: float = Field(gt=0)
    batch_seconds: float = Field(gt=0)
    learning_rate: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    warmup_steps: int = Field(ge=0)
    max_grad_norm: float = Field(gt=0)
    freeze_feature_encoder: bool
    log_every: int = Field(ge=1)
    eval_every: int = Field(ge=1)
    eval_utterances: int = Field(ge=1)
    seed: int
    pad_multiple_seconds: float = Field(ge=0)
    precision: Literal["auto", "fp32", "bf16", "fp16"]
    deterministic: bool
    gradient_checkpointing: bool
    compile: bool
    workers: int = Field(ge=0)
    gpus: int = Field(ge=1)
    nodes: int = Field(ge=1)
    checkpoint_every: int = Field(ge=0)


PositiveFloat = Annotated[float, Field(gt=0)]
PositiveRange = tuple[PositiveFloat, PositiveFloat]


class AugmentKind(Section):
    """One kind of waveform augmentation: when `enabled`, applied to a training clip with `probability`.
    Every field that is a pair is a [low, high] range a value is drawn from."""

    enabled: bool
    probability: Probability

    @model_validator(mode="after")
    def _ranges(self):
        for name, value in self:
            if isinstance(value, tuple) and len(value) == 2 and value[0] > value[1]:
                raise ValueError(f"{name}: [{value[0]}, {value[1]}] is not a range (low > high)")
        return self


class SpeedParams(AugmentKind):
    factors: list[PositiveFloat] = Field(min_length=1)
    continuous: bool


class ReverbParams(AugmentKind):
    rt60: PositiveRange
    room_metres: tuple[Annotated[float, Field(ge=1)], Annotated[float, Field(ge=1)]]
    rooms: int = Field(ge=1)
    folder: str | None


class NoiseParams(AugmentKind):
    snr_db: tuple[float, float]
    sources: list[Literal["white", "pink", "brown", "babble", "files"]] = Field(min_length=1)
    folder: str | None
    babble_speakers: tuple[Positive, Positive]

    @model_validator(mode="after")
    def _files_have_a_folder(self):
        if "files" in self.sources and self.folder is None:
            raise ValueError("sources: files needs folder, the folder of noise recordings")
        if self.folder is not None and "files" not in self.sources:
            raise ValueError(f"folder: {self.folder} is named but sources lack files: its recordings would go unused")
        return self


class GainParams(AugmentKind):
    db: tuple[float, float]


class ClippingParams(AugmentKind):
    share: tuple[Annotated[float, Field(gt=0, lt=1)], Annotated[float, Field(gt=0, lt=1)]]


class BandParams(AugmentKind):
    low_hz: PositiveRange
    high_hz: PositiveRange

    @model_validator(mode="after")
    def _low_below_high(self):
        if self.low_hz[1] >= self.high_hz[0]:
            raise ValueError(f"low_hz {list(self.low_hz)} must lie below high_hz {list(self.high_hz)}")
        return self


class CodecParams(AugmentKind):
    formats: list[Literal["mp3", "opus"]] = Field(min_length=1)
    kbps: PositiveRange


class AugmentParams(Section):
    """Waveform augmentation of training clips, kind by kind, in the order applied (training/augment.py)."""

    speed: SpeedParams
    reverb: ReverbParams
    noise: NoiseParams
    gain: GainParams
    clipping: ClippingParams
    band: BandParams
    codec: CodecParams


class EvaluateParams(Section):
    duration_buckets: list[float]
    group_by: list[str]
    top_errors: int = Field(ge=1)
    license: str
    headline: Literal["wer", "cer", "auto"]

    @model_validator(mode="after")
    def _increasing(self):
        edges = self.duration_buckets
        if any(e <= 0 for e in edges) or edges != sorted(set(edges)):
            raise ValueError(f"duration_buckets must be positive and increasing (got {edges})")
        return self


class GateParams(Section):
    max_wer_increase: float = Field(ge=0)
    max_cer_increase: float = Field(ge=0)
    max_per_increase: float = Field(ge=0)


class Params(Section):
    target: Literal["words", "phones"]
    data: DataParams
    normalize: NormalizeParams
    ngram: NgramParams
    encode: EncodeParams
    filter: FilterParams
    model: ModelParams
    train: TrainParams
    augment: AugmentParams
    decode: DecodeParams
    evaluate: EvaluateParams
    gate: GateParams


# Runtime-only knobs: how a stage runs (how many processes, how often it saves a checkpoint), never what it writes:
# with any value every output comes out byte-identical (tests/test_pipeline.py reruns every stage with each one
# changed). No stage declares them in dvc.yaml, so changing one reruns nothing; dvc.yaml declares every other key a
# stage reads (tests/test_stage_params.py), and no output records them (`recorded`).
RUNTIME_ONLY = frozenset({"data.workers", "encode.workers", "train.workers", "train.checkpoint_every"})


def recorded(sections: dict[str, dict]) -> dict[str, dict]:
    """Dumped params sections by name, as an output may record them: without their runtime-only keys."""

    def kept(values: dict, prefix: str) -> dict:
        return {key: kept(value, f"{prefix}{key}.") if isinstance(value, dict) else value
                for key, value in values.items() if f"{prefix}{key}" not in RUNTIME_ONLY}

    return {name: kept(values, f"{name}.") for name, values in sections.items()}

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
