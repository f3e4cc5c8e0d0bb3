import pytest

from ctc_asr.core.errors import BadInput
from ctc_asr.data.rejects import COLUMNS, Rejects


def bad(item, reason, detail=""):
    raise BadInput(item, reason, detail)


def test_fail_reraises_the_bad_input():
    rejects = Rejects("fail")
    with pytest.raises(BadInput, match=r"a\.wav: empty file"):
        rejects.check("u1", bad, "a.wav", "empty file")
    assert rejects.rows == []


def test_check_returns_the_result_when_nothing_is_wrong():
    assert Rejects("fail").check("u1", lambda x, y: x + y, 2, 3) == 5
    assert Rejects("skip").check("u1", lambda: "ok") == "ok"


def test_skip_records_id_item_reason_and_detail():
    rejects = Rejects("skip")
    assert rejects.check("u1", bad, "dir/a.wav", "not readable audio", "Format not recognised.") is None
    assert rejects.table().to_dict("records") == [
        {"id": "u1", "item": "dir/a.wav", "reason": "not readable audio", "detail": "Format not recognised."}
    ]


def test_other_errors_are_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        Rejects("skip").check("u1", lambda: 1 / 0)


def test_counts_per_reason():
    rejects = Rejects("skip")
    for k, reason in enumerate(["no samples", "empty file", "no samples", "missing file", "no samples"]):
        rejects.reject(f"u{k}", BadInput(f"{k}.wav", reason))
    assert rejects.counts() == {"empty file": 1, "missing file": 1, "no samples": 3}
    assert len(rejects.table()) == 5


def test_empty_table_has_the_columns():
    table = Rejects("skip").table()
    assert list(table.columns) == COLUMNS == ["id", "item", "reason", "detail"] and table.empty
    assert Rejects("skip").counts() == {}
