"""Transcript normalisation: words (one Unicode form, ignored characters dropped, lowercased as the language
does, whitespace collapsed) or phones; and whether a text is written without spaces between its words."""

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache, partial

_SPACES = re.compile(r"\s+")
# The right single quotation mark (U+2019) between letters is the typeset apostrophe (don't, l'homme): written as
# ', so both spellings give one word; elsewhere it closes a quotation, ignored with the other quotation marks
_APOSTROPHE = re.compile(r"(?<=\w)’(?=\w)")
# Languages with a dotted and a dotless i as two letters (Unicode's SpecialCasing.txt): I lowercases to the
# dotless i (U+0131), the dotted capital (U+0130) to i. str.lower() knows no language: it gives i for I, and for
# the dotted capital i followed by a combining dot, two code points.
DOTLESS_I = {"tr", "az"}
_DOTLESS_I_LOWER = (("I\u0307", "i"), ("İ", "i"), ("I", "ı"))  # I + combining dot is İ decomposed (unicode: none)


@cache
def _ignored(chars_to_ignore: str) -> re.Pattern | None:
    return re.compile(f"[{re.escape(chars_to_ignore)}]") if chars_to_ignore else None


def lowercase(text: str, language: str | None) -> str:
    """`text` lowercased; Turkish and Azerbaijani (`language` tr, az, or a tag such as tr-TR) keep their two i's apart."""
    if language and language.split("-")[0] in DOTLESS_I:
        for upper, lower in _DOTLESS_I_LOWER:
            text = text.replace(upper, lower)
    return text.lower()


def normalize(text: str, chars_to_ignore: str, unicode: str = "NFC", language: str | None = None) -> str:
    """'Don't  ask me, please!' -> "don't ask me please" (with the default ignore set).

    `unicode` (NFC, NFKC or none) is applied first, so that a composed é and an e with a combining accent
    are one character (NFKC also folds compatibility forms: full-width forms to ASCII, ligatures, superscripts)."""
    if unicode != "none":
        text = unicodedata.normalize(unicode, text)
    text = _APOSTROPHE.sub("'", text)
    pattern = _ignored(chars_to_ignore)
    if pattern is not None:
        text = pattern.sub("", text)
    return _SPACES.sub(" ", lowercase(text, language)).strip()


def normalizer(rules) -> Callable[[str], str]:
    """`normalize` with the params of the normalize section (chars_to_ignore, unicode, language)."""
    return partial(normalize, chars_to_ignore=rules.chars_to_ignore, unicode=rules.unicode, language=rules.language)


def written_without_spaces(texts: Iterable[str]) -> bool:
    """Whether most of `texts` have no space: Chinese, Japanese, Thai, which do not separate their words, so a
    "word" is a whole utterance (WER only says whether all of it was right) and a word LM has no words to count."""
    texts = list(texts)
    return sum(" " not in t for t in texts) * 2 > len(texts)


def normalize_phones(phones: str) -> str:
    """Space-separated phones with whitespace collapsed; case is kept (eSpeak's `I` and `i` differ)."""
    return " ".join(str(phones).split())
