"""Error analysis of a scored test split: per utterance, per group, and the frequent errors.

Transcripts are words, scored as WER and CER, or space-separated phones, scored as the
phone error rate (PER: jiwer's word error rate over phones), with no character rate.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from ctc_asr.data.text import written_without_spaces
from ctc_asr.evaluation.scoring import by_group, duration_buckets, error_pairs, most_frequent, score

PREDICTION_COLUMNS = ["id", "speaker", "seconds", "reference", "hypothesis", "errors",
                      "substitutions", "deletions", "insertions", "reference_words", "char_errors", "reference_chars"]


PHONE_NAMES = {"wer": "per", "reference_words": "reference_phones"}  # words-scoring names -> phone ones
_CHAR_ONLY = ["cer", "char_errors", "reference_chars"]


@dataclass
class Analysis:
    totals: dict                       # wer, cer (or per), s/d/i counts, reference words (or phones)
    predictions: pd.DataFrame          # one row per utterance, PREDICTION_COLUMNS
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # "duration", "speaker", ...: rates per value
    top_errors: pd.DataFrame = None    # unit, kind, reference, hypothesis, count
    confusions: pd.DataFrame = None    # one row per character (or phone) error, for a confusion plot


def headline_rate(setting: str, train_texts: Iterable[str]) -> str:
    """The rate a words model is judged by: `setting` (wer, cer), or for auto CER when the training transcripts are
    written without spaces (a word would be a whole utterance), else WER."""
    if setting != "auto":
        return setting
    return "cer" if written_without_spaces(train_texts) else "wer"


def phone_rates(scored: dict | pd.DataFrame) -> dict | pd.DataFrame:
    """Totals or a table of word scoring, named for phones (per, reference_phones) and without character rates."""
    if isinstance(scored, dict):
        return {PHONE_NAMES.get(k, k): v for k, v in scored.items() if k not in _CHAR_ONLY}
    return scored.drop(columns=[c for c in _CHAR_ONLY if c in scored.columns]).rename(columns=PHONE_NAMES)


def analyse(test: pd.DataFrame, hypotheses: list[str], duration_edges: list[float], group_by: list[str],
            top: int, phones: bool = False) -> Analysis:
    """`test` has id, speaker, seconds, text (the reference) and any source columns.

    Groups are the duration buckets plus every `group_by` column that `test` has.
    """
    references = test["text"].tolist()
    totals, errors = score(references, hypotheses)
    table = test.reset_index(drop=True).rename(columns={"text": "reference"}).assign(
        hypothesis=hypotheses, duration=duration_buckets(test["seconds"], duration_edges), **errors.to_dict("list"))
    groups = {c: by_group(table, c) for c in ["duration", *[c for c in group_by if c in table.columns]]}
    tokens = error_pairs(references, hypotheses, "word")
    if phones:
        return Analysis(
            totals=phone_rates(totals), predictions=phone_rates(table[PREDICTION_COLUMNS]),
            groups={name: phone_rates(g) for name, g in groups.items()},
            top_errors=most_frequent(tokens, top).assign(unit="phone")[["unit", "kind", "reference", "hypothesis", "count"]],
            confusions=tokens[["reference", "hypothesis"]])
    chars = error_pairs(references, hypotheses, "char")
    top_errors = pd.concat([most_frequent(tokens, top).assign(unit="word"), most_frequent(chars, top).assign(unit="char")])
    return Analysis(
        totals=totals, predictions=table[PREDICTION_COLUMNS], groups=groups,
        top_errors=top_errors[["unit", "kind", "reference", "hypothesis", "count"]].reset_index(drop=True),
        confusions=chars[["reference", "hypothesis"]],
    )
