"""The CTC vocabulary, a pure function of the training transcripts: characters, or whole phones.

Sorted, so the same text always gives the same ids. Follows the HF wav2vec2 convention:
`|` stands for the space between words, `[UNK]` for units never seen in training and
`[PAD]` doubles as the CTC blank (it is the tokenizer's pad token). With the phone target a
unit is a whole space-separated phone (`aa`, `sh`), there is no word delimiter, and the
tokenizer is HF's phoneme CTC tokenizer (without its phonemizer: the phones are given).
"""

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

WORD_DELIMITER = "|"
UNK = "[UNK]"
PAD = "[PAD]"


def units(text: str, target: str) -> list[str]:
    """What the model writes for `text`: its characters (a space as `|`), or its phones."""
    return text.split() if target == "phones" else [WORD_DELIMITER if c == " " else c for c in text]


def build(train_texts: Iterable[str], target: str) -> dict[str, int]:
    tokens = {unit for text in train_texts for unit in units(text, target)}
    return {token: i for i, token in enumerate([*sorted(tokens), UNK, PAD])}


def unseen(texts: Iterable[str], vocab: dict[str, int], target: str) -> Counter:
    """How often each unit of `texts` falls outside `vocab` (it will encode as [UNK])."""
    return Counter(u for text in texts for u in units(text, target) if u != WORD_DELIMITER and u not in vocab)


def encode(text: str, vocab: dict[str, int], target: str) -> list[int]:
    """The label ids of `text`: what `tokenizer(...)(text).input_ids` gives, at a small fraction of its
    cost (it is called for every clip of the corpus, in the process that writes the store)."""
    unknown = vocab[UNK]
    return [vocab.get(unit, unknown) for unit in units(text, target)]


def tokenizer(vocab_file: str | Path, target: str):
    """The HF tokenizer over a vocab file written from `build`: encodes labels, decodes CTC ids."""
    # imported here: transformers takes seconds to import, and the vocab and encode stages do without it
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2PhonemeCTCTokenizer

    # No <s>/</s>: CTC never emits them, and unused outputs would only waste the head.
    special = dict(unk_token=UNK, pad_token=PAD, bos_token=None, eos_token=None)
    if target == "phones":
        return Wav2Vec2PhonemeCTCTokenizer(str(vocab_file), do_phonemize=False, phone_delimiter_token=" ",
                                           word_delimiter_token=None, **special)
    return Wav2Vec2CTCTokenizer(str(vocab_file), word_delimiter_token=WORD_DELIMITER, **special)
