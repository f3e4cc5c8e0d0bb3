"""Error analysis of a scored test split: per utterance, per group, and the frequent errors.

Transcripts are words, scored as WER and CER, or space-separated phones, scored as the
phone error rate (PER: jiwer's word error rate over phones), with no character rate.
"""

from dataclasses import dataclass, field

import pandas as pd

from ctc_asr.data.target import Target
from ctc_asr.evaluation.scoring import by_group, duration_buckets, error_pairs, most_frequent, score

PREDICTION_COLUMNS = ["id", "speaker", "seconds", "reference", "hypothesis", "errors",
                      "substitutions", "deletions", "insertions", "reference_words", "char_errors", "reference_chars"]


@dataclass
class Analysis:
    totals: dict                       # wer, cer (or per), s/d/i counts, reference words (or phones)
    predictions: pd.DataFrame          # one row per utterance, PREDICTION_COLUMNS
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # "duration", "speaker", ...: rates per value
    top_errors: pd.DataFrame = None    # unit, kind, reference, hypothesis, count
    confusions: pd.DataFrame = None    # one row per character (or phone) error, for a confusion plot


def analyse(test: pd.DataFrame, hypotheses: list[str], duration_edges: list[float], group_by: list[str],
            top: int, target: Target) -> Analysis:
    """`test` has id, speaker, seconds, text (the reference) and any source columns.

    Groups are the duration buckets plus every `group_by` column that `test` has.
    """
    references = test["text"].tolist()
    totals, errors = score(references, hypotheses)
    table = test.reset_index(drop=True).rename(columns={"text": "reference"}).assign(
        hypothesis=hypotheses, duration=duration_buckets(test["seconds"], duration_edges), **errors.to_dict("list"))
    groups = {c: by_group(table, c) for c in ["duration", *[c for c in group_by if c in table.columns]]}
    tokens = error_pairs(references, hypotheses, "word")
    if target.phones:
        return Analysis(
            totals=target.named(totals), predictions=target.named(table[PREDICTION_COLUMNS]),
            groups={name: target.named(g) for name, g in groups.items()},
            top_errors=most_frequent(tokens, top).assign(unit="phone")[["unit", "kind", "reference", "hypothesis", "count"]],
            confusions=tokens[["reference", "hypothesis"]])
    chars = error_pairs(references, hypotheses, "char")
    top_errors = pd.concat([most_frequent(tokens, top).assign(unit="word"), most_frequent(chars, top).assign(unit="char")])
    return Analysis(
        totals=totals, predictions=table[PREDICTION_COLUMNS], groups=groups,
        top_errors=top_errors[["unit", "kind", "reference", "hypothesis", "count"]].reset_index(drop=True),
        confusions=chars[["reference", "hypothesis"]],
    )
