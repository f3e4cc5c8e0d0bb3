import pandas as pd

from ctc_asr.training.history import History


def test_history_writes_tsv_that_pandas_reads_back(tmp_path):
    history = History(tmp_path / "h", steps=["step", "loss"], eval=["step", "wer", "cer"])
    history.log("steps", step=1, loss=2.5)
    history.log("steps", step=2, loss=1.25)
    history.log("eval", step=2, wer=0.5, cer=0.125)
    history.close()
    steps = pd.read_csv(tmp_path / "h" / "steps.tsv", sep="\t")
    evals = pd.read_csv(tmp_path / "h" / "eval.tsv", sep="\t")
    assert steps.columns.tolist() == ["step", "loss"]
    assert steps.values.tolist() == [[1, 2.5], [2, 1.25]]
    assert evals.to_dict("records") == [{"step": 2, "wer": 0.5, "cer": 0.125}]


def test_history_is_readable_before_close(tmp_path):
    history = History(tmp_path, steps=["step", "loss"])
    history.log("steps", step=3, loss=0.75)
    assert (tmp_path / "steps.tsv").read_text().splitlines() == ["step\tloss", "3\t0.75"]
    history.close()


def test_header_is_written_even_without_rows(tmp_path):
    History(tmp_path, eval=["step", "wer"]).close()
    frame = pd.read_csv(tmp_path / "eval.tsv", sep="\t")
    assert frame.columns.tolist() == ["step", "wer"] and frame.empty


def test_restore_puts_back_the_records_a_checkpoint_kept(tmp_path):
    first = History(tmp_path, steps=["step", "loss"])
    for step in (1, 2):
        first.log("steps", step=step, loss=step / 10)
    kept = {name: list(rows) for name, rows in first.records.items()}
    first.log("steps", step=3, loss=0.3)  # after the checkpoint: lost with the kill
    first.close()
    again = History(tmp_path, steps=["step", "loss"])
    assert pd.read_csv(tmp_path / "steps.tsv", sep="\t").empty  # a new file, never the old one rewritten
    again.restore(kept)
    again.log("steps", step=3, loss=0.7)
    again.close()
    assert pd.read_csv(tmp_path / "steps.tsv", sep="\t").values.tolist() == [[1, 0.1], [2, 0.2], [3, 0.7]]


def test_a_new_history_never_writes_into_the_old_file(tmp_path):
    History(tmp_path, steps=["step"]).close()
    linked = tmp_path / "linked.tsv"
    linked.hardlink_to(tmp_path / "steps.tsv")
    History(tmp_path, steps=["step", "loss"]).close()
    assert linked.read_text() == "step\n"  # the other link (a cache object, say) is as it was
