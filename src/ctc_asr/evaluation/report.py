"""What evaluate reports on a test split: the metrics (eval.json), the per-utterance table, the details
(by group, frequent errors, confusions) and the model card, from the texts each decoding wrote."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ctc_asr.core import layout, tables
from ctc_asr.core.outputs import write_json
from ctc_asr.core.params import Params
from ctc_asr.data.corpus import extra_tests
from ctc_asr.data.store import Store
from ctc_asr.data.target import Target
from ctc_asr.evaluation import card
from ctc_asr.evaluation.analysis import Analysis, analyse
from ctc_asr.evaluation.scoring import score
from ctc_asr.network.model import SCRATCH

SUMMARY = layout.EVAL_SUMMARY.name  # in the details folder: the counts behind the rates
DECODINGS = ("greedy", "ngram")  # eval.json's keys of each decoding's rates on test


@dataclass
class Report:
    metrics: dict                    # eval.json: the rates alone (what `dvc metrics` and `dvc exp show` compare)
    counts: dict                     # metrics/eval/summary.json: edits, utterances, units the vocabulary lacks
    analysis: Analysis               # of the headline decoding
    greedy: list[str]                # greedy hypotheses, beside the headline ones in the predictions
    rates: list[str]                 # the rates reported, the one the model is judged by first

    @property
    def side_by_side(self) -> dict[str, dict]:
        """Each decoding's rates on test (decoding -> rate -> value), as eval.json holds them."""
        return {name: self.metrics[name] for name in self.metrics if name in DECODINGS}

    def write(self, predictions: Path, details: Path) -> None:
        tables.write(self.analysis.predictions.assign(greedy_hypothesis=self.greedy), predictions)
        for name, table in self.analysis.groups.items():
            tables.write(table, details / f"by_{name}.tsv")
        tables.write(self.analysis.top_errors, details / "top_errors.tsv")
        tables.write(self.analysis.confusions, details / "confusions.tsv")
        write_json(details / SUMMARY, self.counts)

    def summary(self) -> str:
        """Each decoding's rates on test, then each further test set's (its headline decoding)."""
        line = ", ".join(f"{name} " + " ".join(f"{r.upper()} {v[r]:.3f}" for r in self.rates)
                         for name, v in self.side_by_side.items())
        for split in extra_tests(self.metrics):
            scores = self.metrics[split][self.metrics["decoding"]]
            line += f"; {split}: " + " ".join(f"{r.upper()} {scores[r]:.3f}" for r in self.rates)
        return line


def build(target: Target, test: pd.DataFrame, decoded: dict[str, list[str]], cfg: Params, train_texts: pd.Series,
          tokens: dict[str, int], others: dict[str, tuple[pd.DataFrame, dict]] | None = None) -> Report:
    """The report on `test` (id, speaker, seconds, text, source columns) of every decoding in `decoded`; the
    headline is the LM's where there is one. References are scored as they are, with units the vocabulary
    (`tokens`) lacks; TIMIT's phones folded to the 39 of the literature. `others`: more test sets (split ->
    its clips and their decodings), scored beside the first."""
    references = target.scored(test["text"].tolist())
    decoded = {name: target.scored(texts) for name, texts in decoded.items()}
    test = test.assign(text=references)
    headline = "ngram" if "ngram" in decoded else "greedy"
    result = analyse(test, decoded[headline], cfg.evaluate.duration_buckets, cfg.evaluate.group_by,
                     cfg.evaluate.top_errors, target)
    rates = target.rates(cfg.evaluate.headline, train_texts)
    # the headline decoding is scored by analyse; the other one here
    totals = {name: result.totals if name == headline else target.named(score(references, texts)[0])
              for name, texts in decoded.items()}
    side_by_side = {name: {r: t[r] for r in rates} for name, t in totals.items()}
    others = {split: (frame, side_by_side_of(target, frame, texts, rates)) for split, (frame, texts) in (others or {}).items()}
    # the same keys whatever the params (`dvc exp show` makes a column of each); "headline" only where it is not
    # the usual rate (WER, PER)
    metrics = {**{r: result.totals[r] for r in rates if r in result.totals}, "decoding": headline,
               **({"headline": "cer"} if rates[0] == "cer" else {}), **side_by_side,
               **{split: scores for split, (_, scores) in others.items()}}
    counts = {**{k: v for k, v in result.totals.items() if k not in rates}, "utterances": len(test),
              "utterances_with_unseen_units": sum(bool(target.unseen([t], tokens)) for t in references),
              **{split: {"utterances": len(frame)} for split, (frame, _) in others.items()}}
    return Report(metrics, counts, result, decoded["greedy"], rates)


def side_by_side_of(target: Target, test: pd.DataFrame, decoded: dict[str, list[str]], rates: list[str]) -> dict:
    """Each decoding's rates on one more test set."""
    references = target.scored(test["text"].tolist())
    scored = {name: target.named(score(references, target.scored(texts))[0]) for name, texts in decoded.items()}
    return {name: {r: totals[r] for r in rates} for name, totals in scored.items()}


def model_card(cfg: Params, encoded: Store, report: Report, tuned, trained, lm, path: str) -> str:
    """The model card of models/asr: `tuned`, `trained`, `lm` are the handed-on tune, train and lm metrics."""
    splits = encoded.index.groupby("split")
    corpus = {"source": cfg.data.source, **{f"{s} utterances": int(n) for s, n in splits.size().items()},
              **{f"{s} hours": round(float(x) / 3600, 3) for s, x in splits["seconds"].sum().items()},
              **{f"{s} speakers": int(n) for s, n in splits["speaker"].nunique().items()},
              "train utterances kept by the filter": trained.train_utterances, "sample rate": encoded.sample_rate}
    results = {f"test {m.upper()}, {name}": value for name, scores in report.side_by_side.items() for m, value in scores.items()}
    for split in extra_tests(report.metrics):
        results |= {f"{split} {m.upper()}, {name}": value for name, scores in report.metrics[split].items()
                    for m, value in scores.items()}
    decoder = None
    if tuned.ngram:
        results |= {f"dev WER, {name}": getattr(tuned, f"dev_{name}").wer for name in ("greedy", "ngram")}
        decoder = {"order": cfg.ngram.order, "text": cfg.ngram.text or "training transcripts only",
                   "sentences": lm.sentences, "words": lm.words, "vocabulary": lm.vocabulary,
                   "alpha (LM weight)": tuned.alpha, "beta (word bonus)": tuned.beta, "beam width": cfg.decode.beam_width}
    pretrained = None if cfg.model.pretrained == SCRATCH else cfg.model.pretrained
    metadata = card.card_data(cfg.data, pretrained, cfg.evaluate.license, report.side_by_side,
                              card.language_of(cfg.data, cfg.normalize.language))
    settings = {name: getattr(cfg, name).model_dump() for name in ("model", "train", "augment", "filter")}
    return card.model_card(metadata, path, corpus, results, report.rates[0], decoder, settings)
