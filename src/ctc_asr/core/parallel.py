"""An ordered map over worker processes: the same results, in the same order, for any number of workers.

Items go out in chunks, at most a few chunks per worker ahead of the consumer, so a
streamed source is never read whole into memory and the consumer (which writes the
output in input order) sees results as they come.
"""

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

T, R = TypeVar("T"), TypeVar("R")
AHEAD = 4  # chunks in flight per worker: enough to hide the consumer's pauses, little memory


def worker_count(requested: int | None) -> int:
    """`requested`, or every core this process may run on."""
    return requested or len(os.sched_getaffinity(0))


def _apply(function: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [function(item) for item in chunk]


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int, chunk: int = 8) -> Iterator[R]:
    """`map(function, items)` on `workers` processes (1: in this process); `function` must pickle."""
    if workers <= 1:
        yield from map(function, items)
        return
    iterator = iter(items)
    chunks = iter(lambda: list(islice(iterator, chunk)), [])
    pool = ProcessPoolExecutor(workers)
    try:
        pending = deque(pool.submit(_apply, function, c) for c in islice(chunks, workers * AHEAD))
        while pending:
            done = pending.popleft().result()
            pending.extend(pool.submit(_apply, function, c) for c in islice(chunks, 1))
            yield from done
    finally:  # on an error (or a consumer that stops early) drop what has not started
        pool.shutdown(cancel_futures=True)
