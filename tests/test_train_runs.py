"""Training runs in processes of their own: killed and resumed, split over two gloo processes, and
over two "machines" (two torchrun launches meeting through c10d rendezvous)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ctc_asr.data import vocab as vocab_module

SCRIPT = Path(__file__).with_name("fit_script.py")
TEXTS = ["a cat", "the dog", "hello world", "dont look", "a dog sat", "the cat ran"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, store_writer):
    """12 training clips of 0.25-0.6 s and 2 test clips, in a folder with store/ and vocab.json: one per module,
    each test writing its runs under names of its own (and the one-process reference run shared)."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "vocab.json").write_text(json.dumps(vocab_module.build(TEXTS, "words")))
    tokenizer = vocab_module.tokenizer(folder / "vocab.json", "words")
    rng = np.random.default_rng(0)
    clips, labels, splits, texts = [], [], [], []
    for k in range(14):
        n = int(rng.integers(4000, 9600))
        t = np.arange(n) / 16000
        clips.append(np.sin(2 * np.pi * (120 + 40 * k) * t) + 0.1 * rng.standard_normal(n))
        texts.append(TEXTS[k % len(TEXTS)])
        labels.append(tokenizer(texts[-1]).input_ids)
        splits.append("test" if k >= 12 else "train")
    store_writer(folder / "store", clips, labels, splits, texts)
    return folder


def start(folder: Path, follow: bool = False, env: dict | None = None, **settings) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    command = [sys.executable, str(SCRIPT), str(folder), json.dumps(settings), *(["--follow"] if follow else [])]
    return subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    return output


def results(folder: Path, name: str) -> tuple[dict, dict, pd.DataFrame]:
    out = folder / name
    return (json.loads((out / "summary.json").read_text()), torch.load(out / "weights.pt"),
            pd.read_csv(out / "steps.tsv", sep="\t"))


RUN = dict(epochs=12, batch_seconds=1.0, learning_rate=3e-3, warmup_steps=5, log_every=4, eval_every=20,
           seed=0, mask_time_prob=0.05)


def test_a_killed_run_resumes_and_ends_as_an_uninterrupted_one(corpus):
    finish(start(corpus, name="whole", checkpoint_every=0, workers=0, **RUN))  # the killed run uses 2 workers
    killed = start(corpus, name="killed", checkpoint_every=7, **RUN)
    checkpoint = corpus / "killed" / "checkpoint" / "last.pt"
    while not checkpoint.exists() and killed.poll() is None:
        time.sleep(0.005)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate()
    assert killed.returncode == -signal.SIGKILL and not (corpus / "killed" / "summary.json").exists()

    output = finish(start(corpus, name="killed", checkpoint_every=7, **RUN))
    resumed_at = int(output.split("resuming at step ")[1].split()[0])
    whole, whole_weights, whole_steps = results(corpus, "whole")
    again, again_weights, again_steps = results(corpus, "killed")
    assert 0 < resumed_at < whole["steps"]
    for key in ("steps", "final_loss", "eval_wer", "eval_cer", "skipped_batches"):
        assert again[key] == whole[key], key
    for name, tensor in whole_weights.items():
        torch.testing.assert_close(again_weights[name], tensor, rtol=0, atol=1e-6, msg=name)
    pd.testing.assert_frame_equal(again_steps, whole_steps)  # the history too, without gaps or repeats


def test_a_checkpoint_of_other_settings_is_not_resumed(corpus):
    short = dict(RUN, epochs=2, workers=0, checkpoint_every=0)  # what it checks comes before the first step
    finish(start(corpus, name="run", **short))
    leftover = corpus / "run" / "checkpoint"
    leftover.mkdir()
    torch.save({"key": "other settings"}, leftover / "last.pt")
    (leftover / "last.json").write_text(json.dumps({"key": "other settings"}))
    output = finish(start(corpus, name="run", **short))
    assert "other settings" in output and "resuming" not in output


# masks are drawn per process; batches built in the training processes (workers are tested above); fp32, since
# in bf16 (precision auto on a CPU that has it) the two processes' halves round otherwise than the whole batch
SPLIT = dict(RUN, mask_time_prob=0.0, epochs=4, checkpoint_every=0, workers=0, precision="fp32")


def one_process(corpus: Path) -> dict:
    """The settings of the runs split over processes, once run in one process as `one` (the reference)."""
    if not (corpus / "one" / "summary.json").exists():
        finish(start(corpus, name="one", **SPLIT))
    return SPLIT


def test_two_gloo_processes_give_the_result_of_one_with_the_same_global_batch(corpus):
    output = finish(start(corpus, name="two", gpus=2, **one_process(corpus)))
    one, one_weights, one_steps = results(corpus, "one")
    two, two_weights, two_steps = results(corpus, "two")
    assert (one["processes"], two["processes"]) == (1, 2), output[-2000:]
    assert two["steps"] == one["steps"]
    assert two["final_loss"] == pytest.approx(one["final_loss"], abs=1e-4)
    np.testing.assert_allclose(two_steps["loss"], one_steps["loss"], atol=1e-4)
    for name, tensor in one_weights.items():
        torch.testing.assert_close(two_weights[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


def machine(folder: Path, corpus: Path) -> Path:
    """A folder of its own for one "machine", with the corpus's store and vocab."""
    folder.mkdir()
    for name in ("store", "vocab.json"):
        (folder / name).symlink_to(corpus / name)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun_pid(process: subprocess.Popen) -> int:
    """The pid of the torchrun agent `process` (fit_script) forks, once it has (0 if it ended first)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    while process.poll() is None and not children.read_text().strip():
        time.sleep(0.01)
    return int(children.read_text().split()[0]) if process.poll() is None else 0


def two_machines(first: Path, second: Path, **settings) -> tuple[str, int]:
    """A run on two one-process "machines": `first` leads, `second` follows; the lead's output and rank."""
    env = {"CTC_ASR_RENDEZVOUS": f"127.0.0.1:{free_port()}"}
    # c10d ranks the machines by their torchrun agents' pids: the follower's, forked first, gets
    # rank 0, so the lead is rank 1 and a process writing as rank 0 would write the follower's folder
    # (unless the pids wrapped round in between: the lead's rank is read from the pids).
    follower = start(second, follow=True, env=env, name="run", nodes=2, gpus=1, **settings)
    follower_pid = torchrun_pid(follower)
    lead = start(first, env=env, name="run", nodes=2, gpus=1, **settings)
    lead_rank = int(torchrun_pid(lead) > follower_pid)
    try:
        with ThreadPoolExecutor(2) as pool:  # both at once: a full output pipe would stall the other
            lead_output, _ = pool.map(finish, [lead, follower])
    finally:
        for process in (lead, follower):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    return lead_output, lead_rank


def test_two_machines_give_the_result_of_one_process_and_only_the_lead_writes(corpus):
    settings = dict(one_process(corpus), checkpoint_every=7)
    first, second = machine(corpus / "first", corpus), machine(corpus / "second", corpus)
    output, rank = two_machines(first, second, **settings)
    one, one_weights, one_steps = results(corpus, "one")
    two, two_weights, two_steps = results(first, "run")
    assert (two["processes"], two["rank"]) == (2, rank), output[-2000:]
    assert sorted(p.name for p in second.iterdir()) == ["store", "vocab.json"]  # the follower wrote nothing
    assert len(torch.load(first / "run" / "checkpoint" / "last.pt", weights_only=False)["random"]) == 2
    assert two["steps"] == one["steps"]
    np.testing.assert_allclose(two_steps["loss"], one_steps["loss"], atol=1e-4)
    for name, tensor in one_weights.items():
        torch.testing.assert_close(two_weights[name], tensor, rtol=1e-4, atol=1e-5, msg=name)

    # Again: the lead resumes from its last checkpoint and sends it to the follower, which has none.
    output, rank = two_machines(first, second, **settings)
    assert 0 < int(output.split("resuming at step ")[1].split()[0]) < one["steps"]
    again, again_weights, again_steps = results(first, "run")
    assert (again["rank"], again["final_loss"]) == (rank, two["final_loss"])
    assert sorted(p.name for p in second.iterdir()) == ["store", "vocab.json"]
    pd.testing.assert_frame_equal(again_steps, two_steps)
    for name, tensor in two_weights.items():
        torch.testing.assert_close(again_weights[name], tensor, rtol=0, atol=1e-6, msg=name)
