import os

import pytest

from ctc_asr.core.parallel import AHEAD, ordered_map, worker_count


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("workers, chunk", [(1, 8), (2, 1), (2, 3), (3, 8)])
def test_results_come_in_input_order_for_any_workers_and_chunk(workers, chunk):
    results = list(ordered_map(square_with_pid, range(50), workers, chunk))
    assert [r for r, _ in results] == [x * x for x in range(50)]
    pids = {pid for _, pid in results}
    assert pids == {os.getpid()} if workers == 1 else os.getpid() not in pids


def test_a_worker_error_reaches_the_consumer():
    with pytest.raises(ValueError, match="three"):
        list(ordered_map(fails_on_three, range(10), 2, chunk=1))


def test_items_are_read_only_a_few_chunks_ahead():
    taken = []

    def items():
        for x in range(1000):
            taken.append(x)
            yield x

    results = ordered_map(square_with_pid, items(), 2, chunk=4)
    next(results)
    assert len(taken) <= (2 * AHEAD + 1) * 4  # a streamed source is not read whole
    results.close()


def test_worker_count_defaults_to_every_usable_core():
    assert worker_count(None) == len(os.sched_getaffinity(0)) and worker_count(3) == 3
