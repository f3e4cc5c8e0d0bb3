import pytest

from ctc_asr.evaluation.scoring import NOTHING, SPACE, by_group, duration_buckets, error_pairs, most_frequent, score

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


def test_per_utterance_character_errors_sum_to_the_cer():
    refs, hyps = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    totals, table = score(refs, hyps)
    assert table["char_errors"].tolist() == [p[5] for p in PAIRS]
    assert table["reference_chars"].tolist() == [p[6] for p in PAIRS]
    assert totals["cer"] == pytest.approx(table["char_errors"].sum() / table["reference_chars"].sum(), abs=5e-5)


def test_word_error_pairs_name_each_side():
    pairs = error_pairs(["a b c", "x y"], ["a q", "x z y w"], "word")
    assert pairs.values.tolist() == [
        ["substitution", "b", "q"], ["deletion", "c", NOTHING], ["insertion", NOTHING, "z"], ["insertion", NOTHING, "w"],
    ]


def test_character_error_pairs_show_spaces_as_the_word_delimiter():
    pairs = error_pairs(["the cat"], ["the bat s"], "char")
    assert pairs.values.tolist() == [["substitution", "c", "b"], ["insertion", NOTHING, SPACE], ["insertion", NOTHING, "s"]]


def test_no_errors_give_no_pairs():
    assert error_pairs(["same words"], ["same words"], "char").empty


def test_most_frequent_counts_and_orders_pairs():
    pairs = error_pairs(["a b a b", "b"], ["a c a c", "c"], "word")  # b->c three times
    top = most_frequent(pairs, 1)
    assert top.values.tolist() == [["substitution", "b", "c", 3]]


def test_groups_pool_errors_within_each_value():
    _totals, table = score(["a b", "c d e f", "g"], ["a x", "c d e f", ""])
    table = table.assign(speaker=["s1", "s1", "s2"], seconds=[1.0, 2.0, 0.5])
    groups = by_group(table, "speaker").set_index("speaker")
    assert groups.loc["s1", "wer"] == pytest.approx(1 / 6, abs=1e-4)  # pooled, not the mean of 1/2 and 0
    assert groups.loc["s2", "wer"] == 1.0
    assert groups.loc["s1", "utterances"] == 2 and groups.loc["s1", "seconds"] == 3.0
    assert groups.loc["s1", "cer"] == pytest.approx(1 / 10, abs=1e-4)  # "b" -> "x" over "a b" + "c d e f"


def test_duration_buckets_are_closed_on_the_left():
    buckets = duration_buckets([0.5, 2.0, 3.99, 4.0, 30], [2, 4])
    assert list(buckets) == ["0-2s", "2-4s", "2-4s", "4+s", "4+s"]
    assert list(buckets.categories) == ["0-2s", "2-4s", "4+s"]
