"""The utterance table's queries: filter, sort and page on the server, so that the page receives one page of
rows however large the test set (a page of 50 from 5,000 clips is a few milliseconds of pandas)."""

import json
from dataclasses import dataclass, field

import pandas as pd

PAGE, LARGEST_PAGE = 50, 500


class BadQuery(ValueError):
    """A query string the table cannot answer: the client's mistake (400), not the server's."""


CHANGES = {"better": lambda d: d < 0, "worse": lambda d: d > 0, "changed": lambda d: d != 0, "same": lambda d: d == 0}


@dataclass
class Query:
    sort: str = "rate"
    descending: bool = True
    offset: int = 0
    limit: int = PAGE
    text: str = ""                                       # in the id, the reference or a hypothesis, any case
    groups: dict[str, str] = field(default_factory=dict)  # column -> value: speaker, duration, accent, ...
    word: str = ""                                       # a word (or phone) of the reference
    lm_worse: bool = False                               # only where the LM made more errors than greedy decoding
    change: str = ""                                     # better, worse, changed or same against the compared revision
    error: tuple[str, str, str] | None = None            # unit, reference token, hypothesis token of an error pair

    @classmethod
    def parse(cls, params: dict[str, str], columns: list[str], groups: list[str]) -> "Query":
        """From the URL's query string; BadQuery for what it cannot be."""
        try:
            numbers = {"offset": max(int(params.get("offset", 0)), 0),
                       "limit": min(max(int(params.get("limit", PAGE)), 1), LARGEST_PAGE)}
        except ValueError:
            raise BadQuery("offset and limit are whole numbers") from None
        query = cls(**numbers, sort=params.get("sort", "rate"), descending=params.get("desc", "1") == "1",
                    text=params.get("q", "").strip(), groups={g: params[g] for g in groups if g in params},
                    word=params.get("word", ""), lm_worse=params.get("lm_worse") == "1", change=params.get("change", ""))
        if query.sort not in columns:
            raise BadQuery(f"cannot sort by {query.sort!r}")
        if query.change and query.change not in CHANGES:
            raise BadQuery(f"change is one of {', '.join(CHANGES)}")
        if "eunit" in params:
            query.error = (params["eunit"], params.get("eref", ""), params.get("ehyp", ""))
        return query


def select(frame: pd.DataFrame, query: Query, error_rows: list[int] | None = None) -> pd.DataFrame:
    """The rows `query` keeps, in its order; `error_rows` are the positions where its error pair happens."""
    keep = pd.Series(True, index=frame.index)
    for column, value in query.groups.items():
        keep &= frame[column].astype(str) == value
    if query.text:
        texts = [c for c in ("id", "reference", "hypothesis", "greedy_hypothesis", "other_hypothesis") if c in frame]
        keep &= frame[texts].apply(lambda c: c.astype(str).str.contains(query.text, case=False, regex=False)).any(axis=1)
    if query.word:
        keep &= frame["reference"].str.split().apply(lambda tokens: query.word in tokens)
    if query.lm_worse:
        keep &= frame["lm_worse"]
    if query.change:
        keep &= frame["delta"].notna() & CHANGES[query.change](frame["delta"])
    if query.error is not None:
        keep &= frame.index.isin(error_rows or [])
    kept = frame[keep]
    return kept.sort_values([query.sort, "id"], ascending=[not query.descending, True], na_position="last", kind="stable")


def page(selected: pd.DataFrame, query: Query, columns: list[str]) -> dict:
    """One page of `selected`: total rows, where it starts, and its rows with `columns` (NaN as null)."""
    rows = selected.iloc[query.offset:query.offset + query.limit]
    return {"total": len(selected), "offset": query.offset, "limit": query.limit,
            "rows": json.loads(rows[[c for c in columns if c in rows]].to_json(orient="records", double_precision=4))}
