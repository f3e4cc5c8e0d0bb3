import math

import kenlm
import pytest

from ctc_asr.data.sources.synthetic import load_sentences
from ctc_asr.data.target import Target
from ctc_asr.data.text import normalize, normalizer
from ctc_asr.decoding import ngram


def kenlm_model(sentences, order, tmp_path):
    model = ngram.estimate([s.split() for s in sentences], order)
    path = tmp_path / f"{order}.arpa"
    ngram.write_arpa(model, path)
    return model, kenlm.Model(str(path))


def state_after(model: kenlm.Model, words: list[str]) -> kenlm.State:
    state = kenlm.State()
    model.BeginSentenceWrite(state)
    for word in words:
        following = kenlm.State()
        model.BaseScore(state, word, following)
        state = following
    return state


def test_discounts_from_counts_of_counts():
    # t1..t4 = 4, 2, 1, 1: Y = 4 / (4 + 2*2) = 0.5, D_k = k - (k+1) Y t_{k+1} / t_k
    assert ngram.discounts([1, 1, 1, 1, 2, 2, 3, 4, 9]) == pytest.approx((0.5, 1.25, 1.0))


def test_discounts_fall_back_when_a_count_of_counts_is_missing():
    assert ngram.discounts([1, 1, 2, 4]) == ngram.FALLBACK  # no n-gram seen 3 times


def test_a_hand_computed_bigram_model(tmp_path):
    # Corpus "a b", "a"; fallback discounts 0.5, 1, 1.5. Unigram adjusted counts: a 1 (after <s>),
    # b 1, </s> 2 (after b and a), <unk> 0: total 4, discount mass 2, so 1/2 of the mass is
    # spread over the 4 words. p(a) = p(b) = 0.5/4 + 0.5/4 = 0.25, p(</s>) = 1/4 + 1/8 = 0.375.
    # Bigrams: p(a|<s>) = (2-1)/2 + 0.5*0.25 = 0.625, p(b|a) = 0.5/2 + 0.5*0.25 = 0.375,
    # p(</s>|b) = 0.5/1 + 0.5*0.375 = 0.6875; unseen p(b|<s>) = backoff(<s>) * p(b) = 0.5*0.25.
    _, model = kenlm_model(["a b", "a"], 2, tmp_path)
    assert model.score("a b", bos=True, eos=True) == pytest.approx(math.log10(0.625 * 0.375 * 0.6875), abs=1e-5)
    assert model.score("b", bos=True, eos=False) == pytest.approx(math.log10(0.5 * 0.25), abs=1e-5)
    assert model.score("zzz", bos=False, eos=False) == pytest.approx(math.log10(0.125), abs=1e-5)  # <unk>


@pytest.mark.parametrize("order", [2, 3, 4])
def test_every_context_gives_a_distribution_over_the_vocabulary(tmp_path, order):
    sentences = [normalize(s, ',?.!-;:"') for s in load_sentences("harvard")[:300]]
    estimated, model = kenlm_model(sentences, order, tmp_path)
    assert any(d != ngram.FALLBACK for d in estimated.discounts)  # the real formula is exercised, not only the fallback
    vocabulary = [*estimated.words, ngram.EOS, ngram.UNK]
    first = sentences[0].split()
    for context in ([], first[:1], first[:2], first[:3], ["unheard", "words"], sentences[7].split()[:order]):
        state = state_after(model, context)
        total = sum(10 ** model.BaseScore(state, word, kenlm.State()) for word in vocabulary)
        assert total == pytest.approx(1.0, abs=1e-4), context


def test_seen_text_scores_above_shuffled_text(tmp_path):
    sentences = [normalize(s, ',?.!-;:"') for s in load_sentences("harvard")[:300]]
    _, model = kenlm_model(sentences, 3, tmp_path)
    seen = sentences[10]
    shuffled = " ".join(reversed(seen.split()))
    assert model.score(seen) > model.score(shuffled) + 3  # a thousand times likelier at least


def test_order_below_one_is_refused():
    with pytest.raises(ValueError, match="order"):
        ngram.estimate([["a"]], 0)


MANDARIN = ["今天天气很好", "我们去公园", "他是老师"]


@pytest.mark.parametrize(("order", "target", "text", "why"), [
    (0, "words", None, "ngram.order is 0"),
    (4, "phones", None, "the target is phones"),
    (4, "words", None, "the training transcripts are written without spaces"),
])
def test_no_word_lm_and_why(order, target, text, why):
    assert ngram.why_none(order, Target(target), MANDARIN, text).startswith(why)


def test_a_word_lm_for_spaced_text_or_a_segmented_text_given():
    assert ngram.why_none(4, Target("words"), ["a cat sat", "the dog"], None) is None
    assert ngram.why_none(4, Target("words"), MANDARIN, "segmented.txt") is None  # the user's words: ngram.text


def test_lm_text_is_normalized_as_the_transcripts_are(tmp_path, defaults):
    path = tmp_path / "text.txt"
    path.write_text("«Un CAFE\u0301», s’il vous plaît !\n\n今天 天气 很 好。\n", encoding="utf-8")
    assert list(ngram.text_file_sentences(path, normalizer(defaults.normalize))) == [
        ["un", "caf\u00e9", "s'il", "vous", "plaît"], ["今天", "天气", "很", "好"]]
