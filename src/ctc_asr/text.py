"""Transcript normalisation: words (drop ignored characters, lowercase, collapse whitespace) or phones."""

import re
from functools import cache

_SPACES = re.compile(r"\s+")


@cache
def _ignored(chars_to_ignore: str) -> re.Pattern | None:
    return re.compile(f"[{re.escape(chars_to_ignore)}]") if chars_to_ignore else None


def normalize(text: str, chars_to_ignore: str) -> str:
    """'Don't  ask me, please!' -> "don't ask me please" (with the default ignore set)."""
    pattern = _ignored(chars_to_ignore)
    if pattern is not None:
        text = pattern.sub("", text)
    return _SPACES.sub(" ", text.lower()).strip()


def normalize_phones(phones: str) -> str:
    """Space-separated phones with whitespace collapsed; case is kept (eSpeak's `I` and `i` differ)."""
    return " ".join(str(phones).split())
