"""What the page shows, as JSON: the run at a glance, the utterance table, one utterance with its alignments,
the frequent errors, and the comparison with another revision. Everything is read once, at start; requests
only read it (the server's threads share these tables, and nothing is written)."""

import json
import tempfile
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from ctc_asr.core import layout, tables
from ctc_asr.decoding.ngram import UNIGRAMS
from ctc_asr.evaluation.scoring import NOTHING
from ctc_asr.explorer import align, results, revision
from ctc_asr.explorer.clips import Clips
from ctc_asr.explorer.table import Query, page, select

# the utterance table's columns, those a run has; group columns (speaker, duration, accent, ...) follow
ROW_COLUMNS = ["id", "speaker", "seconds", "rate", "errors", "cer", "greedy_rate", "lm_worse", "reference", "hypothesis",
               "greedy_hypothesis", "other_rate", "delta", "other_hypothesis"]
TOP_CONFUSED = 16  # rows and columns of the confusion matrix: the units with most errors


class Explorer:
    """The workspace's results (`project` holds them) and, in compare mode, `other`: another revision's."""

    def __init__(self, project: Path, other: results.Results | None = None):
        self.project, self.other = Path(project), other
        self.run = results.read(self.project, "workspace")
        self.clips = Clips(self.project / layout.ENCODED)
        self.groups = group_tables(self.project / layout.EVAL_DETAILS)
        self.frame = self._frame()
        self.positions = {utterance: k for k, utterance in enumerate(self.frame["id"])}  # id -> row
        self.known = known_words(self.project / layout.LM / UNIGRAMS) if self.run.scoring.unit == "word" else None
        self._places, self._lock = None, threading.Lock()

    def _frame(self) -> pd.DataFrame:
        """The run's scored predictions with every group column and, in compare mode, the other revision's."""
        frame = self.run.table.copy()
        if "duration" in self.groups:
            frame["duration"] = buckets(frame["seconds"], self.groups["duration"]["value"])
        index = None if self.clips.store is None else self.clips.store.index.drop_duplicates("id").set_index("id")
        for name in self.groups:  # accent, dialect_region, ...: the source's columns, kept in the store's index
            if name not in frame and index is not None and name in index:
                frame[name] = frame["id"].map(index[name]).astype(str)
        return frame if self.other is None else with_other(frame, self.other)

    @classmethod
    def open(cls, project: Path, compare: str | None = None) -> "Explorer":
        """The explorer of the project's workspace, compared with the revision `compare` names, if any."""
        results.require(project)  # the workspace's results missing: say so before looking for a revision's
        return cls(project, read_revision(project, compare) if compare else None)

    @property
    def filters(self) -> dict[str, list[str]]:
        """The columns the table filters on, with their values (the group tables' order)."""
        found = {name: table["value"].tolist() for name, table in self.groups.items() if name in self.frame}
        if "speaker" in self.frame and "speaker" not in found:
            found["speaker"] = sorted(self.frame["speaker"].astype(str).unique())
        return found

    def summary(self) -> dict:
        metrics, scoring = self.run.metrics, self.run.scoring
        counts = results.read_json(self.project / layout.EVAL_SUMMARY) or {}
        return {
            "rate": scoring.rate, "unit": scoring.unit, "decoding": metrics.get("decoding"), "with_lm": self.run.with_lm,
            "headline": {r: metrics[r] for r in ("wer", "cer", "per") if r in metrics},
            "decodings": {d: metrics[d] for d in ("greedy", "ngram") if isinstance(metrics.get(d), dict)},
            "edits": {k: counts.get(k) for k in ("substitutions", "deletions", "insertions")},
            "utterances": len(self.frame), "audio_seconds": round(float(self.frame["seconds"].sum()), 2),
            "groups": {name: records(table) for name, table in self.groups.items()},
            "filters": self.filters,
            "corpus": results.read_json(self.project / layout.stage_metrics("download")),
            "vocabulary": self.vocabulary(), "lm": self.language_model(), "audio": self.clips.store is not None,
            "compare": self.comparison(),
        }

    @property
    def columns(self) -> list[str]:
        return [c for c in ROW_COLUMNS if c in self.frame] + [g for g in self.filters if g not in ROW_COLUMNS]

    def vocabulary(self) -> dict | None:
        tokens = results.read_json(self.project / layout.VOCAB)
        counts = results.read_json(self.project / layout.stage_metrics("vocab")) or {}
        unseen = next((v for k, v in counts.items() if k.startswith("unseen_test_")), None)
        return None if tokens is None else {"tokens": list(tokens), "unseen_test": unseen}

    def language_model(self) -> dict | None:
        found = results.read_json(self.project / layout.stage_metrics("lm"))
        return None if found is None else {k: found.get(k) for k in ("order", "sentences", "vocabulary", "oov_rate")}

    def comparison(self) -> dict | None:
        if self.other is None:
            return None
        both = self.frame["delta"].notna()
        delta = self.frame.loc[both, "delta"]
        theirs = set(self.other.table["id"])
        return {"name": self.other.name, "rate": self.other.scoring.rate,
                "headline": {r: self.other.metrics[r] for r in ("wer", "cer", "per") if r in self.other.metrics},
                "better": int((delta < 0).sum()), "worse": int((delta > 0).sum()), "same": int((delta == 0).sum()),
                "only_here": int((~both).sum()), "only_there": len(theirs - set(self.frame["id"])),
                "changes": sorted(round(float(d), 4) for d in delta[delta != 0])}

    def utterances(self, params: dict[str, str]) -> dict:
        query = Query.parse(params, self.columns, list(self.filters))
        places = self.error_places().get(query.error, []) if query.error else None
        return page(select(self.frame, query, places), query, self.columns)

    def utterance(self, utterance: str) -> dict | None:
        k = self.positions.get(utterance)
        if k is None:
            return None
        row = self.frame.iloc[k]
        fields = json.loads(self.frame.iloc[[k]][self.columns].to_json(orient="records", double_precision=4))[0]
        return {**fields, "alignments": self.alignments(row), "outline": self.clips.outline(utterance),
                "audio": f"/audio/{quote(utterance, safe='')}.wav" if utterance in self.clips.position else None}

    def alignments(self, row: pd.Series) -> list[dict]:
        """The reference against each hypothesis: the headline decoding's, greedy beside it, the other revision's."""
        hypotheses = [(self.run.metrics.get("decoding", "hypothesis"), row["hypothesis"])]
        if self.run.with_lm:
            hypotheses.append(("greedy", row["greedy_hypothesis"]))
        if self.other is not None and isinstance(row.get("other_hypothesis"), str):  # a list: REV may be named greedy
            hypotheses.append((self.other.name, row["other_hypothesis"]))
        shown = []
        for name, text in hypotheses:
            tokens = align.aligned(row["reference"], text, self.run.scoring.unit)
            for token in tokens:
                token["oov"] = self.known is not None and token["ref"] != NOTHING and token["ref"] not in self.known
            errors = sum(t["op"] != "=" for t in tokens)
            shown.append({"name": name, "hypothesis": text, "errors": errors, "tokens": tokens})
        return shown

    def error_places(self) -> dict[tuple[str, str, str], list[int]]:
        """(unit, reference, hypothesis) of every error pair -> the rows it happens in; worked out at the first
        request that needs it (a second of jiwer for 5,000 clips), once."""
        with self._lock:
            if self._places is None:
                units = ["phone"] if self.run.scoring.unit == "phone" else ["word", "char"]
                self._places = {(unit, *pair): rows for unit in units for pair, rows in align.error_places(
                    self.frame["reference"], self.frame["hypothesis"], unit).items()}
            return self._places

    def errors(self) -> dict:
        """The frequent errors and the confusions (metrics/eval), each with how many utterances it happens in."""
        places = self.error_places()
        details = self.project / layout.EVAL_DETAILS
        top = tables.read(details / "top_errors.tsv") if (details / "top_errors.tsv").is_file() else None
        rows = [] if top is None else [self._top_error(row, places) for row in top.to_dict("records")]
        confused = tables.read(details / "confusions.tsv") if (details / "confusions.tsv").is_file() else None
        return {"top": rows, "confusions": None if confused is None else self.confusions(confused), "oov": self.oov_words()}

    def _top_error(self, row: dict, places: dict) -> dict:
        unit, reference, hypothesis = str(row["unit"]), str(row["reference"]), str(row["hypothesis"])
        return {"unit": unit, "kind": row["kind"], "reference": reference, "hypothesis": hypothesis, "count": int(row["count"]),
                "utterances": len(places.get((unit, reference, hypothesis), [])), "oov": self.is_oov(unit, reference)}

    def is_oov(self, unit: str, token: str) -> bool:
        return unit == "word" and self.known is not None and token != NOTHING and token not in self.known

    def confusions(self, pairs: pd.DataFrame) -> dict:
        """A matrix of the units with most errors: reference rows, hypothesis columns, counts."""
        pairs = pairs.astype(str)
        unit = "phone" if self.run.scoring.unit == "phone" else "char"
        rows = pairs["reference"].value_counts().index[:TOP_CONFUSED].tolist()
        kept = pairs[pairs["reference"].isin(rows)]
        cols = kept["hypothesis"].value_counts().index[:TOP_CONFUSED].tolist()
        counts = kept.value_counts(["reference", "hypothesis"])
        return {"unit": unit, "rows": rows, "cols": cols,
                "counts": [[int(counts.get((r, c), 0)) for c in cols] for r in rows]}

    def oov_words(self, most: int = 30) -> list[dict]:
        """The test words the LM does not know, most frequent first, each with the utterances it is in."""
        if self.known is None:
            return []
        counts, utterances = Counter(), Counter()
        for text in self.frame["reference"]:
            unknown = [w for w in text.split() if w not in self.known]
            counts.update(unknown)
            utterances.update(set(unknown))
        return [{"word": w, "count": n, "utterances": utterances[w]} for w, n in counts.most_common(most)]


def read_revision(project: Path, rev: str) -> results.Results:
    """The results as `rev` (a git revision or a DVC experiment) has them, read through DVC."""
    commit = revision.resolve(rev, project)
    with tempfile.TemporaryDirectory() as folder:
        revision.copy_at(commit, rev, [results.PREDICTIONS, results.EVAL], project, Path(folder))
        return results.read(Path(folder), rev)


def group_tables(details: Path) -> dict[str, pd.DataFrame]:
    """metrics/eval/by_<group>.tsv, duration and speaker first, each with its group's values as "value" strings."""
    found = {path.stem.removeprefix("by_"): tables.read(path) for path in sorted(details.glob("by_*.tsv"))}
    order = sorted(found, key=lambda name: ["duration", "speaker", name].index(name))
    return {name: found[name].rename(columns={name: "value"}).astype({"value": str}) for name in order}


def records(table: pd.DataFrame) -> list[dict]:
    return json.loads(table.to_json(orient="records", double_precision=4))


def buckets(seconds: pd.Series, labels: list[str]) -> pd.Series:
    """Each duration's bucket among evaluate's labels ("0-2s", "2-4s", "8+s")."""
    bounds = [(label, *_bounds(label)) for label in labels]
    return seconds.map(lambda s: next((label for label, low, high in bounds if low <= s < high), ""))


def _bounds(label: str) -> tuple[float, float]:
    span = label.removesuffix("s")
    if span.endswith("+"):
        return float(span[:-1]), float("inf")
    low, _, high = span.partition("-")
    return float(low), float(high)


def with_other(frame: pd.DataFrame, other: results.Results) -> pd.DataFrame:
    """`frame` with the other revision's rate and hypothesis per utterance, and the change: this run's rate minus
    the other's (negative: better here). Utterances the other run lacks get none."""
    theirs = other.table.drop_duplicates("id").set_index("id")
    return frame.assign(other_rate=frame["id"].map(theirs["rate"]), other_hypothesis=frame["id"].map(theirs["hypothesis"]),
                        delta=lambda f: f["rate"] - f["other_rate"])


def known_words(unigrams: Path) -> set[str] | None:
    """The words the LM knows; None without an LM (nothing is then out of its vocabulary)."""
    return set(unigrams.read_text(encoding="utf-8").split()) if unigrams.is_file() else None
