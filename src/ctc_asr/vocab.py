"""The CTC character vocabulary, a pure function of the training transcripts.

Sorted, so the same text always gives the same ids. Follows the HF wav2vec2 convention:
`|` stands for the space between words, `[UNK]` for characters never seen in training
and `[PAD]` doubles as the CTC blank (it is the tokenizer's pad token).
"""

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from transformers import Wav2Vec2CTCTokenizer

WORD_DELIMITER = "|"
UNK = "[UNK]"
PAD = "[PAD]"


def build(train_texts: Iterable[str]) -> dict[str, int]:
    chars = {WORD_DELIMITER if c == " " else c for text in train_texts for c in text}
    return {token: i for i, token in enumerate([*sorted(chars), UNK, PAD])}


def unseen(texts: Iterable[str], vocab: dict[str, int]) -> Counter:
    """How often each character of `texts` falls outside `vocab` (it will encode as [UNK])."""
    return Counter(c for text in texts for c in text if c != " " and c not in vocab)


def tokenizer(vocab_file: str | Path) -> Wav2Vec2CTCTokenizer:
    """The HF tokenizer over a vocab file written from `build`: encodes labels, decodes CTC ids."""
    # No <s>/</s>: CTC never emits them, and unused outputs would only waste the head.
    return Wav2Vec2CTCTokenizer(str(vocab_file), unk_token=UNK, pad_token=PAD, word_delimiter_token=WORD_DELIMITER,
                                bos_token=None, eos_token=None)
