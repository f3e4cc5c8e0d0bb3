"""Word n-gram language models: interpolated modified Kneser-Ney, written as ARPA.

The estimate follows KenLM's lmplz (Heafield et al., 2013): adjusted counts (the highest
order and n-grams starting with <s> keep their counts; the others count their distinct
left neighbours), three discounts per order from the counts of counts (Chen & Goodman),
lmplz's fallback discounts where those are undefined, interpolation down to a uniform
distribution over the vocabulary and <unk>. No pruning. <s> is context only: never predicted.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ctc_asr.core.errors import UserError
from ctc_asr.data.target import Target
from ctc_asr.data.text import written_without_spaces

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FALLBACK = (0.5, 1.0, 1.5)  # lmplz --discount_fallback, for orders whose counts of counts leave a gap
ARPA, UNIGRAMS = "lm.arpa", "unigrams.txt"  # a saved model's files, as beam search reads them
NEVER = -99.0  # the log10 probability ARPA files give <s>


@dataclass
class NGramModel:
    order: int
    probs: list[dict[tuple[str, ...], float]]      # per order: n-gram -> log10 p(last word | the others)
    backoffs: list[dict[tuple[str, ...], float]]   # per order: n-gram -> log10 weight as a context
    discounts: list[tuple[float, float, float]]    # per order: D1, D2, D3+

    @property
    def words(self) -> list[str]:
        """The vocabulary: every unigram but the sentence markers and <unk>."""
        return sorted(w for (w,) in self.probs[0] if w not in (BOS, EOS, UNK))


def _raw_counts(sentences: Iterable[list[str]], order: int) -> list[Counter]:
    counts = [Counter() for _ in range(order)]
    for words in sentences:
        padded = [BOS, *words, EOS]
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                counts[n - 1][tuple(padded[i:i + n])] += 1
    return counts


def _adjusted(raw: list[Counter]) -> list[Counter]:
    adjusted = [Counter() for _ in raw]
    adjusted[-1] = raw[-1]
    for n in range(len(raw) - 1):
        for gram, count in raw[n].items():
            if gram[0] == BOS:
                adjusted[n][gram] = count
        for gram in raw[n + 1]:  # <s> opens a sentence, so a suffix never starts with it
            adjusted[n][gram[1:]] += 1
    del adjusted[0][(BOS,)]  # never predicted, so it takes no probability mass
    return adjusted


def discounts(counts: Iterable[int]) -> tuple[float, float, float]:
    """D1, D2, D3+ from the counts of counts (Chen & Goodman), or lmplz's fallback."""
    t = Counter(c for c in counts if c <= 4)
    if any(t[k] == 0 for k in (1, 2, 3, 4)):
        return FALLBACK
    y = t[1] / (t[1] + 2 * t[2])
    found = tuple(k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3))
    return found if all(0 < d <= k for k, d in zip((1, 2, 3), found)) else FALLBACK


def estimate(sentences: Iterable[list[str]], order: int) -> NGramModel:
    """An interpolated modified Kneser-Ney model of the word lists in `sentences`."""
    if order < 1:
        raise ValueError(f"an n-gram order is at least 1, got {order}")
    adjusted = _adjusted(_raw_counts(sentences, order))
    adjusted[0].setdefault((UNK,), 0)
    vocabulary = len(adjusted[0])  # every word, </s> and <unk>: what the uniform distribution spreads over
    probs, backoffs, found = [], [], []
    lower = None
    for counts in adjusted:
        d = discounts(counts.values())
        found.append(d)
        totals, mass = defaultdict(int), defaultdict(float)
        for gram, count in counts.items():
            totals[gram[:-1]] += count
            mass[gram[:-1]] += d[min(count, 3) - 1] if count else 0.0
        weight = {context: mass[context] / totals[context] for context in totals}
        p = {}
        for gram, count in counts.items():
            discounted = max(count - d[min(count, 3) - 1], 0.0) if count else 0.0
            below = 1 / vocabulary if lower is None else lower[gram[1:]]
            p[gram] = discounted / totals[gram[:-1]] + weight[gram[:-1]] * below
        probs.append(p)
        backoffs.append(weight)
        lower = p
    return NGramModel(
        order=order,
        probs=[{g: math.log10(v) for g, v in p.items()} for p in probs],
        # the interpolation weights of order n + 1, keyed by their contexts: the backoffs of order n
        backoffs=[{g: math.log10(w) for g, w in b.items()} for b in backoffs[1:]],
        discounts=found,
    )


def write_arpa(model: NGramModel, path: Path) -> None:
    """The model in ARPA text format, which KenLM (and so pyctcdecode) reads."""
    probs = [dict(p) for p in model.probs]
    probs[0][(BOS,)] = NEVER
    lines = ["", "\\data\\", *(f"ngram {n}={len(p)}" for n, p in enumerate(probs, start=1))]
    for n, p in enumerate(probs, start=1):
        lines += ["", f"\\{n}-grams:"]
        backoff = model.backoffs[n - 1] if n < model.order else {}
        for gram in sorted(p):
            weight = backoff.get(gram)
            lines.append(f"{p[gram]:.6f}\t{' '.join(gram)}" + ("" if weight is None else f"\t{weight:.6f}"))
    lines += ["", "\\end\\", ""]
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def why_none(order: int, target: Target, train_texts: Iterable[str], text: str | None) -> str | None:
    """Why no word LM is built (decoding stays greedy), or None: `train_texts` are the training transcripts,
    `text` is ngram.text."""
    if order == 0:
        return "ngram.order is 0"
    if not target.has_word_lm:
        return f"the target is {target.kind}"
    if text is None and written_without_spaces(train_texts):
        return "the training transcripts are written without spaces (no words to count; ngram.text can give a segmented text)"
    return None


def text_file_sentences(path: str | Path, normalize: Callable[[str], str]) -> Iterable[list[str]]:
    """The word lists of a UTF-8 file with one sentence a line, normalized as transcripts are (`normalize`)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"ngram.text: {path} is not a file")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            words = normalize(line).split()
            if words:
                yield words


def out_of_vocabulary_rate(texts: Iterable[str], words: set[str]) -> float:
    """The share of the running words of `texts` that `words` lacks."""
    running = [w for text in texts for w in text.split()]
    return round(sum(w not in words for w in running) / max(len(running), 1), 4)


def save(model, folder: Path) -> None:
    """The model in ARPA format and its words one a line (pyctcdecode's unigrams), in `folder`."""
    write_arpa(model, Path(folder) / ARPA)
    (Path(folder) / UNIGRAMS).write_text("".join(w + "\n" for w in model.words), encoding="utf-8")
