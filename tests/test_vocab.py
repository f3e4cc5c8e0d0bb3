from collections import Counter

import pytest

from ctc_asr.data import vocab


def test_build_is_sorted_with_space_as_bar_and_specials_last():
    v = vocab.build(["ba c", "ab"], "words")
    assert list(v) == ["a", "b", "c", "|", "[UNK]", "[PAD]"]
    assert list(v.values()) == list(range(6))


def test_build_is_deterministic_regardless_of_input_order():
    texts = ["hello world", "don't go", "zebra"]
    assert vocab.build(texts, "words") == vocab.build(list(reversed(texts)), "words")


def test_build_has_no_raw_space():
    assert " " not in vocab.build(["a b"], "words")


def test_unseen_counts_characters_outside_vocab():
    v = vocab.build(["abc"], "words")
    assert vocab.unseen(["abz zq", "c"], v, "words") == Counter({"z": 2, "q": 1})


def test_unseen_is_empty_when_everything_is_known():
    v = vocab.build(["abc d"], "words")
    assert vocab.unseen(["cab d", "dd"], v, "words") == Counter()


def test_tokenizer_encodes_to_vocab_ids(tokenizer, vocab_dict):
    expected = [vocab_dict["|" if c == " " else c] for c in "hello world"]
    assert tokenizer("hello world").input_ids == expected


def test_tokenizer_maps_unknown_characters_to_unk(tokenizer, vocab_dict):
    assert "z" not in vocab_dict
    assert tokenizer("oz").input_ids == [vocab_dict["o"], vocab_dict["[UNK]"]]


def test_tokenizer_pad_is_the_vocab_pad(tokenizer, vocab_dict):
    assert tokenizer.pad_token_id == vocab_dict["[PAD]"]


def test_tokenizer_decodes_ctc_output(tokenizer, vocab_dict):
    pad = vocab_dict["[PAD]"]
    ids = [vocab_dict[c] for c in "hh"] + [vocab_dict["e"], pad, vocab_dict["l"], pad, vocab_dict["l"],
           vocab_dict["l"], vocab_dict["o"], vocab_dict["|"], vocab_dict["|"], pad, vocab_dict["w"],
           vocab_dict["o"], vocab_dict["r"], vocab_dict["l"], vocab_dict["d"], pad]
    assert tokenizer.decode(ids) == "hello world"
    assert tokenizer.batch_decode([ids, [pad, vocab_dict["a"], pad]]) == ["hello world", "a"]


@pytest.mark.parametrize("target, texts", [
    ("words", ["hello world", "a b  c", "unseen ü and q", ""]),
    ("phones", ["sil sh iy hh", "aa zz sil", ""]),
])
def test_encode_gives_the_tokenizers_label_ids(tmp_path, target, texts):
    import json

    tokens = vocab.build(["hello world abc", "sil sh iy hh aa"], target)
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(tokens))
    tokenizer = vocab.tokenizer(path, target)
    for text in texts:
        assert vocab.encode(text, tokens, target) == tokenizer(text).input_ids, text
