"""Word and character error rates with jiwer: totals, per utterance, per group, per error pair."""

import itertools
from collections.abc import Sequence

import jiwer
import numpy as np
import pandas as pd

NOTHING = "∅"  # the missing side of a deletion or an insertion
SPACE = "|"    # a space in character confusions, as the vocabulary writes it
_KINDS = {"substitute": "substitution", "delete": "deletion", "insert": "insertion"}


def _edit_counts(alignment) -> dict[str, int]:
    counts = dict.fromkeys(_KINDS.values(), 0)
    for chunk in alignment:
        if chunk.type in _KINDS:
            counts[_KINDS[chunk.type]] += max(chunk.ref_end_idx - chunk.ref_start_idx, chunk.hyp_end_idx - chunk.hyp_start_idx)
    return counts


def score(references: list[str], hypotheses: list[str]) -> tuple[dict, pd.DataFrame]:
    """Corpus totals (wer, cer, s/d/i counts) and a per-utterance error table."""
    words = jiwer.process_words(references, hypotheses)
    chars = jiwer.process_characters(references, hypotheses)
    table = pd.DataFrame([_edit_counts(a) for a in words.alignments]).rename(columns=lambda kind: kind + "s")
    table["reference_words"] = [len(r.split()) for r in references]
    table["errors"] = table[["substitutions", "deletions", "insertions"]].sum(axis=1)
    table["char_errors"] = [sum(_edit_counts(a).values()) for a in chars.alignments]
    table["reference_chars"] = [len(r) for r in chars.references]
    totals = {
        "wer": round(words.wer, 4), "cer": round(chars.cer, 4),
        "substitutions": words.substitutions, "deletions": words.deletions, "insertions": words.insertions,
        "reference_words": int(table["reference_words"].sum()),
    }
    return totals, table


def by_group(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """WER and CER pooled within each value of `column` of a scored table (see `score`)."""
    sums = table.groupby(column, observed=True, sort=True).agg(
        utterances=("errors", "size"), seconds=("seconds", "sum"), errors=("errors", "sum"),
        reference_words=("reference_words", "sum"), char_errors=("char_errors", "sum"),
        reference_chars=("reference_chars", "sum"),
    )
    return pd.DataFrame({
        column: sums.index.astype(str), "utterances": sums["utterances"].to_numpy(),
        "seconds": sums["seconds"].round(2).to_numpy(),
        "wer": (sums["errors"] / sums["reference_words"].clip(lower=1)).round(4).to_numpy(),
        "cer": (sums["char_errors"] / sums["reference_chars"].clip(lower=1)).round(4).to_numpy(),
    })


def duration_buckets(seconds: Sequence[float], edges: Sequence[float]) -> pd.Categorical:
    """Labels such as "0-2s", "2-4s", "4+s" for clip durations split at `edges` seconds (no spaces: they
    become metric names in `dvc exp show`)."""
    bounds = [0.0, *sorted(edges), np.inf]
    labels = [f"{lo:g}-{hi:g}s" for lo, hi in itertools.pairwise(bounds[:-1])] + [f"{bounds[-2]:g}+s"]
    return pd.cut(np.asarray(seconds, float), bounds, labels=labels, right=False)


def error_pairs(references: list[str], hypotheses: list[str], unit: str) -> pd.DataFrame:
    """One row per word (unit="word") or character (unit="char") error: kind, reference, hypothesis."""
    process = jiwer.process_words if unit == "word" else jiwer.process_characters
    out = process(references, hypotheses)
    shown = (lambda t: t) if unit == "word" else (lambda t: SPACE if t == " " else t)
    rows = []
    for ref, hyp, alignment in zip(out.references, out.hypotheses, out.alignments):
        for chunk in alignment:
            if chunk.type == "equal":
                continue
            ref_part = ref[chunk.ref_start_idx:chunk.ref_end_idx] or [NOTHING] * (chunk.hyp_end_idx - chunk.hyp_start_idx)
            hyp_part = hyp[chunk.hyp_start_idx:chunk.hyp_end_idx] or [NOTHING] * len(ref_part)
            rows += [(_KINDS[chunk.type], shown(r), shown(h)) for r, h in zip(ref_part, hyp_part)]
    return pd.DataFrame(rows, columns=["kind", "reference", "hypothesis"])


def most_frequent(pairs: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` most frequent (kind, reference, hypothesis) rows of `error_pairs`, with counts."""
    counts = pairs.value_counts(["kind", "reference", "hypothesis"]).rename("count").reset_index()
    return counts.sort_values(["count", "kind", "reference", "hypothesis"], ascending=[False, True, True, True]).head(n)
