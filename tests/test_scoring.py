import pytest

from ctc_asr.scoring import score

# Hand-aligned pairs: (reference, hypothesis, S, D, I, character edits, reference characters).
PAIRS = [
    ("the cat sat on the mat", "the cat sit on mat", 1, 1, 0, 5, 22),  # sat->sit, "the " deleted
    ("hello world", "hello big world", 0, 0, 1, 4, 11),               # "big " inserted
    ("a b c", "", 0, 3, 0, 5, 5),                                      # empty hypothesis
    ("one two", "one two", 0, 0, 0, 0, 7),
]


@pytest.mark.parametrize("ref, hyp, s, d, i, char_edits, ref_chars", PAIRS)
def test_single_pair_counts_and_rates(ref, hyp, s, d, i, char_edits, ref_chars):
    totals, table = score([ref], [hyp])
    words = len(ref.split())
    assert (totals["substitutions"], totals["deletions"], totals["insertions"]) == (s, d, i)
    assert totals["reference_words"] == words
    assert totals["wer"] == pytest.approx((s + d + i) / words, abs=5e-5)
    assert totals["cer"] == pytest.approx(char_edits / ref_chars, abs=5e-5)
    assert table.loc[0, ["substitutions", "deletions", "insertions", "errors"]].tolist() == [s, d, i, s + d + i]


def test_corpus_totals_pool_all_utterances():
    refs, hyps = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    totals, _ = score(refs, hyps)
    errors = sum(p[2] + p[3] + p[4] for p in PAIRS)
    words = sum(len(p[0].split()) for p in PAIRS)
    assert (errors, words) == (6, 13)
    assert totals["wer"] == pytest.approx(errors / words, abs=5e-5)
    assert totals["cer"] == pytest.approx(sum(p[5] for p in PAIRS) / sum(p[6] for p in PAIRS), abs=5e-5)


def test_per_utterance_errors_sum_to_the_totals():
    refs, hyps = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    totals, table = score(refs, hyps)
    assert len(table) == len(PAIRS)
    assert table["substitutions"].sum() == totals["substitutions"]
    assert table["deletions"].sum() == totals["deletions"]
    assert table["insertions"].sum() == totals["insertions"]
    assert table["reference_words"].tolist() == [6, 2, 3, 2]
    assert table["errors"].sum() == totals["substitutions"] + totals["deletions"] + totals["insertions"]
    assert table["reference_words"].sum() == totals["reference_words"]


def test_multi_word_substitution_counts_each_word():
    totals, table = score(["a b c d"], ["a x y d"])
    assert totals["substitutions"] == 2 and table.loc[0, "substitutions"] == 2
    assert totals["wer"] == pytest.approx(0.5)
