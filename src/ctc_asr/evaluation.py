"""Error analysis of a scored test split: per utterance, per group, and the frequent errors."""

from dataclasses import dataclass, field

import pandas as pd

from .scoring import by_group, duration_buckets, error_pairs, most_frequent, score

PREDICTION_COLUMNS = ["id", "speaker", "seconds", "reference", "hypothesis", "errors",
                      "substitutions", "deletions", "insertions", "reference_words", "char_errors", "reference_chars"]


@dataclass
class Analysis:
    totals: dict                       # wer, cer, s/d/i counts, reference words
    predictions: pd.DataFrame          # one row per utterance, PREDICTION_COLUMNS
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # "duration", "speaker", ...: wer/cer per value
    top_errors: pd.DataFrame = None    # unit, kind, reference, hypothesis, count
    char_errors: pd.DataFrame = None   # one row per character error, for a confusion plot


def analyse(test: pd.DataFrame, hypotheses: list[str], duration_edges: list[float], group_by: list[str],
            top: int) -> Analysis:
    """`test` has id, speaker, seconds, text (the reference) and any source columns.

    Groups are the duration buckets plus every `group_by` column that `test` has.
    """
    references = test["text"].tolist()
    totals, errors = score(references, hypotheses)
    table = test.reset_index(drop=True).rename(columns={"text": "reference"}).assign(
        hypothesis=hypotheses, duration=duration_buckets(test["seconds"], duration_edges), **errors.to_dict("list"))
    groups = {c: by_group(table, c) for c in ["duration", *[c for c in group_by if c in table.columns]]}
    words, chars = error_pairs(references, hypotheses, "word"), error_pairs(references, hypotheses, "char")
    top_errors = pd.concat([most_frequent(words, top).assign(unit="word"), most_frequent(chars, top).assign(unit="char")])
    return Analysis(
        totals=totals, predictions=table[PREDICTION_COLUMNS], groups=groups,
        top_errors=top_errors[["unit", "kind", "reference", "hypothesis", "count"]].reset_index(drop=True),
        char_errors=chars[["reference", "hypothesis"]],
    )
