"""Word and character error rates with jiwer, totals and per utterance."""

import jiwer
import pandas as pd


def score(references: list[str], hypotheses: list[str]) -> tuple[dict, pd.DataFrame]:
    """Corpus totals (wer, cer, s/d/i counts) and a per-utterance error table."""
    words = jiwer.process_words(references, hypotheses)
    chars = jiwer.process_characters(references, hypotheses)
    per_utterance = []
    for alignment in words.alignments:
        counts = {"substitute": 0, "delete": 0, "insert": 0}
        for chunk in alignment:
            if chunk.type in counts:
                counts[chunk.type] += max(chunk.ref_end_idx - chunk.ref_start_idx, chunk.hyp_end_idx - chunk.hyp_start_idx)
        per_utterance.append({
            "substitutions": counts["substitute"], "deletions": counts["delete"], "insertions": counts["insert"],
        })
    table = pd.DataFrame(per_utterance)
    table["reference_words"] = [len(r.split()) for r in references]
    table["errors"] = table[["substitutions", "deletions", "insertions"]].sum(axis=1)
    totals = {
        "wer": round(words.wer, 4), "cer": round(chars.cer, 4),
        "substitutions": words.substitutions, "deletions": words.deletions, "insertions": words.insertions,
        "reference_words": int(table["reference_words"].sum()),
    }
    return totals, table
