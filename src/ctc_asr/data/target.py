"""What the model learns to write and how it is judged: words (characters, WER/CER, a word LM) or phones
(whole phones, PER, no word LM). Every stage asks the one `Target` instead of testing `target == "phones"`."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ctc_asr.data import vocab
from ctc_asr.data.phones import FOLD_48_TO_39, fold
from ctc_asr.data.text import written_without_spaces

PHONE_NAMES = {"wer": "per", "reference_words": "reference_phones"}  # word-scoring names -> phone ones
_CHAR_ONLY = ["cer", "char_errors", "reference_chars"]


@dataclass(frozen=True)
class Target:
    kind: str                            # "words" or "phones" (params: target)
    scoring_fold: dict | None = None     # phone -> the phone it is scored as (TIMIT's 48 -> 39)

    @classmethod
    def of(cls, kind: str, source: str) -> "Target":
        """The target of params `target` for a corpus from `source` (TIMIT's phones are scored folded to 39)."""
        return cls(kind, FOLD_48_TO_39 if kind == "phones" and source == "timit" else None)

    @property
    def phones(self) -> bool:
        return self.kind == "phones"

    @property
    def unit(self) -> str:
        """What one vocabulary entry is, in the plural."""
        return "phones" if self.phones else "characters"

    @property
    def separator(self) -> str:
        """What goes between units when they are written out."""
        return " " if self.phones else ""

    @property
    def has_word_lm(self) -> bool:
        return not self.phones

    def build_vocab(self, train_texts: Iterable[str]) -> dict[str, int]:
        return vocab.build(train_texts, self.kind)

    def unseen(self, texts: Iterable[str], tokens: dict[str, int]) -> Counter:
        return vocab.unseen(texts, tokens, self.kind)

    def encode(self, text: str, tokens: dict[str, int]) -> list[int]:
        return vocab.encode(text, tokens, self.kind)

    def tokenizer(self, vocab_file: str | Path):
        return vocab.tokenizer(vocab_file, self.kind)

    def rates(self, headline: str, train_texts: Iterable[str]) -> list[str]:
        """The rates reported, the one a model is judged by first: PER for phones; for words `headline`
        (wer, cer), or with auto CER where the training transcripts are written without spaces (a word
        would be a whole utterance), else WER."""
        if self.phones:
            return ["per"]
        if headline == "auto":
            headline = "cer" if written_without_spaces(train_texts) else "wer"
        return [headline, *({"wer", "cer"} - {headline})]

    def scored(self, texts: list[str]) -> list[str]:
        """Texts as they are scored: folded where the target's convention folds (TIMIT's 39 phones)."""
        return texts if self.scoring_fold is None else [fold(t, self.scoring_fold) for t in texts]

    def named(self, scored: dict | pd.DataFrame) -> dict | pd.DataFrame:
        """Word scoring's totals or table, named for the target: for phones per and reference_phones,
        without character rates."""
        if not self.phones:
            return scored
        if isinstance(scored, dict):
            return {PHONE_NAMES.get(k, k): v for k, v in scored.items() if k not in _CHAR_ONLY}
        return scored.drop(columns=[c for c in _CHAR_ONLY if c in scored.columns]).rename(columns=PHONE_NAMES)
