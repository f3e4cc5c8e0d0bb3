"""One run's test results as evaluate wrote them (metrics/eval.json, metrics/predictions.tsv), with each
utterance's error rate, greedy and with the LM. The same reader serves the workspace and a revision."""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ctc_asr.core import layout, tables
from ctc_asr.core.errors import UserError
from ctc_asr.explorer import align

EVAL, PREDICTIONS = layout.Evaluated.PATH, layout.PREDICTIONS


@dataclass(frozen=True)
class Scoring:
    """How a run is judged: its headline rate, the unit it counts, and predictions.tsv's columns for it."""

    rate: str     # wer, cer or per
    unit: str     # word, char or phone
    errors: str   # errors per utterance, in that unit
    length: str   # reference length, in that unit

    @classmethod
    def of(cls, metrics: dict) -> "Scoring":
        if "per" in metrics:
            return cls("per", "phone", "errors", "reference_phones")
        if metrics.get("headline") == "cer":  # text written without spaces: a word would be a whole utterance
            return cls("cer", "char", "char_errors", "reference_chars")
        return cls("wer", "word", "errors", "reference_words")


@dataclass
class Results:
    name: str             # "workspace", or the revision it was read at
    metrics: dict         # eval.json
    scoring: Scoring
    table: pd.DataFrame   # predictions.tsv plus rate, greedy_errors, greedy_rate, lm_worse (and cer for words)

    @property
    def with_lm(self) -> bool:
        return self.metrics.get("decoding") == "ngram"


def read_json(path: Path) -> dict | None:
    """A JSON file's contents, None when it is not there (an optional part of a run)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def read(folder: Path, name: str) -> Results:
    """The results under `folder` (a project root, or a revision's files copied out)."""
    require(folder)
    metrics = read_json(Path(folder) / EVAL)
    scoring = Scoring.of(metrics)
    return Results(name, metrics, scoring, scored(tables.read(Path(folder) / PREDICTIONS), metrics, scoring))


def require(folder: Path) -> None:
    """A one-line error when evaluate's outputs are not under `folder`."""
    for path in (PREDICTIONS, EVAL):
        if not (Path(folder) / path).is_file():
            raise UserError(f"{path}: not found — run `dvc repro` first")


def scored(predictions: pd.DataFrame, metrics: dict, scoring: Scoring) -> pd.DataFrame:
    """predictions.tsv with each utterance's headline rate, the greedy decoding's, and whether the LM made it worse."""
    table = predictions.copy()
    table["reference"], table["hypothesis"] = table["reference"].astype(str), table["hypothesis"].astype(str)
    lengths = table[scoring.length].clip(lower=1)
    table["rate"] = table[scoring.errors] / lengths
    if "char_errors" in table and scoring.unit != "char":
        table["cer"] = table["char_errors"] / table["reference_chars"].clip(lower=1)
    if metrics.get("decoding") == "ngram" and "greedy_hypothesis" in table:
        table["greedy_hypothesis"] = table["greedy_hypothesis"].astype(str)
        table["greedy_errors"] = align.error_counts(table["reference"], table["greedy_hypothesis"], scoring.unit)
    else:  # greedy decoding is the headline: nothing to set beside it
        table["greedy_hypothesis"], table["greedy_errors"] = table["hypothesis"], table[scoring.errors]
    table["greedy_rate"] = table["greedy_errors"] / lengths
    table["lm_worse"] = table[scoring.errors] > table["greedy_errors"]
    return table.reset_index(drop=True)
