"""The `data.on_error` policy: stop at the first bad item (fail) or drop it and keep a record (skip)."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import pandas as pd

from ctc_asr.core import tables
from ctc_asr.core.errors import BadInput

T = TypeVar("T")
Policy = Literal["fail", "skip"]
COLUMNS = ["id", "item", "reason", "detail"]


Outcome = tuple[T | None, tuple[str, str, str] | None]


def attempt(check: Callable[..., T], *args, **kwargs) -> Outcome:
    """`check(*args, **kwargs)` as (value, None), or (None, (item, reason, detail)) if it raised BadInput:
    a result that pickles, for checks run in worker processes (see `Rejects.settle`)."""
    try:
        return check(*args, **kwargs), None
    except BadInput as bad:
        return None, (bad.item, bad.reason, bad.detail)


class Rejects:
    """Runs checks under one policy; under `skip` remembers every rejected item and why."""

    def __init__(self, on_error: Policy):
        self.on_error = on_error
        self.rows: list[dict] = []

    def check(self, item_id: str, check: Callable[..., T], *args) -> T | None:
        """`check(*args)`, or None if it raised BadInput and the policy is skip."""
        try:
            return check(*args)
        except BadInput as bad:
            self.reject(item_id, bad)
            return None

    def settle(self, item_id: str, outcome: Outcome) -> T | None:
        """The value of an `attempt`, or None after rejecting the item as `check` would have."""
        value, bad = outcome
        if bad is not None:
            self.reject(item_id, BadInput(*bad))
        return value

    def reject(self, item_id: str, bad: BadInput) -> None:
        if self.on_error == "fail":
            raise bad
        self.rows.append({"id": item_id, "item": bad.item, "reason": bad.reason, "detail": bad.detail})

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(row["reason"] for row in self.rows).items()))

    def save(self, path: Path) -> str:
        """Write the rejected items to `path` (a header only when there are none); a note for the stage's summary line."""
        tables.write(self.table(), path)
        return f"; {len(self.rows)} rejected, listed in {path}" if self.rows else ""
