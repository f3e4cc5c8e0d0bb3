"""End to end: `dvc repro` on a tiny config in a temporary git repository.

Checks every output and metrics file, then that changing one train param reruns train and
evaluate and nothing else. Each test leaves params.yaml as it found it (see `params_kept`),
and a test that needs the outputs to match params.yaml brings them there first (`settled`),
so the tests pass in any order.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from e2e import PROJECT, commit, error_lines, run, set_params, settled, stages_run, tiny_copy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def repo(tiny_run, tmp_path_factory) -> Path:
    return tiny_copy(tiny_run[0], tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def first_run(repo: Path, tiny_run) -> str:
    """The output of the tiny run's first `dvc repro` (the one `repo` was copied from)."""
    return tiny_run[1]


@pytest.fixture(autouse=True)
def params_kept(request):
    """Whatever a test does to params.yaml is undone after it."""
    if "repo" not in request.fixturenames:
        yield
        return
    path = request.getfixturevalue("repo") / "params.yaml"
    original = path.read_text()
    yield
    path.write_text(original)


def test_repro_runs_every_stage_in_order(first_run):
    ran = stages_run(first_run)
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
    assert sorted(ran) == sorted(stages)
    for stage, spec in stages.items():  # after every stage whose output it reads
        for dep in spec["deps"]:
            for before, other in stages.items():
                outs = [next(iter(o)) if isinstance(o, dict) else o for o in other.get("outs", []) + other.get("metrics", [])]
                if any(dep == out or dep.startswith(f"{out}/") for out in outs):
                    assert ran.index(before) < ran.index(stage), (before, stage)


def test_outputs_and_metrics(repo, first_run):
    raw = pd.read_csv(repo / "data/raw/manifest.tsv", sep="\t")
    assert len(raw[raw["split"] != "test_unseen"]) == (3 + 1 + 2) * 3
    assert (raw["split"] == "test_unseen").sum() == 3 * 3  # Flite's three unseen voices, 3 test sentences each
    assert all((repo / "data/raw" / p).is_file() for p in raw["path"])
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        assert set(raw.loc[raw.split == a, "speaker"]).isdisjoint(raw.loc[raw.split == b, "speaker"])
        assert set(raw.loc[raw.split == a, "text"]).isdisjoint(raw.loc[raw.split == b, "text"])
    downloaded = json.loads((repo / "metrics/download.json").read_text())
    assert downloaded["utterances"] == {"dev": 3, "test": 6, "test_unseen": 9, "train": 9}

    transcripts = pd.read_csv(repo / "data/text/transcripts.tsv", sep="\t")
    assert (transcripts["text"] == transcripts["text"].str.lower()).all()
    vocab = json.loads((repo / "data/vocab.json").read_text())
    assert list(vocab)[-2:] == ["[UNK]", "[PAD]"] and "|" in vocab

    for name in ("audio.i16", "labels.i32", "index.tsv", "store.json"):
        assert (repo / "data/encoded" / name).is_file()
    decisions = pd.read_csv(repo / "data/filtered/decisions.tsv", sep="\t")
    assert len(decisions) == 9
    assert json.loads((repo / "metrics/filter.json").read_text())["train_utterances"] == 9

    steps = pd.read_csv(repo / "metrics/train/steps.tsv", sep="\t")
    history = pd.read_csv(repo / "metrics/train/eval.tsv", sep="\t")
    train = json.loads((repo / "metrics/train.json").read_text())
    assert len(steps) == train["steps"] and history["step"].iloc[-1] == train["steps"]
    assert train["processes"] == 1 and train["precision"] in {"fp32", "bf16", "fp16"}
    assert not (repo / "models/checkpoint/last.pt").exists()  # no checkpoint left to resume

    encoded = pd.read_csv(repo / "data/encoded/index.tsv", sep="\t")
    assert len(encoded) == len(raw)  # every clip kept, unseen letters and all
    test_utterances = int((raw["split"] == "test").sum())
    assert json.loads((repo / "metrics/vocab.json").read_text())["unseen_test_characters"]["count"] >= test_utterances

    lm = json.loads((repo / "metrics/lm.json").read_text())
    assert lm["order"] == 4 and lm["sentences"] == 9 and set(lm["ngrams"]) == {"1", "2", "3", "4"}
    assert (repo / "data/lm/lm.arpa").is_file() and lm["oov_rate"]["test"] > 0  # "says <its letter>" is unseen
    tune = json.loads((repo / "metrics/tune.json").read_text())
    assert tune["ngram"] and tune["dev_utterances"] == 3
    assert len(pd.read_csv(repo / "metrics/tune/grid.tsv", sep="\t")) == 4  # the 2 x 2 grid of TINY

    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    assert set(evaluation) == {"wer", "cer", "decoding", "greedy", "ngram", "test_unseen"}  # rates alone: exp show's columns
    counts = json.loads((repo / "metrics/eval/summary.json").read_text())
    assert set(counts) >= {"substitutions", "deletions", "insertions", "reference_words", "utterances"}
    assert counts["utterances"] == counts["utterances_with_unseen_units"] == test_utterances > 0
    unseen = int((raw["split"] == "test_unseen").sum())
    assert unseen > 0 and counts["test_unseen"] == {"utterances": unseen}
    assert set(evaluation["test_unseen"]) == {"greedy", "ngram"} and set(evaluation["test_unseen"]["ngram"]) == {"wer", "cer"}
    assert evaluation["decoding"] == "ngram" and evaluation["wer"] == evaluation["ngram"]["wer"]
    assert set(evaluation["greedy"]) == {"wer", "cer"}
    predictions = pd.read_csv(repo / "metrics/predictions.tsv", sep="\t", keep_default_na=False)
    assert len(predictions) == test_utterances
    assert {"reference", "hypothesis", "greedy_hypothesis", "errors"} <= set(predictions.columns)
    timing = json.loads((repo / "metrics/timing/evaluate.json").read_text())
    assert timing["greedy_real_time_factor"] > 0 and timing["ngram_real_time_factor"] > 0
    assert json.loads((repo / "metrics/timing/train.json").read_text())["train_seconds"] > 0
    details = repo / "metrics/eval"
    assert pd.read_csv(details / "by_duration.tsv", sep="\t")["utterances"].sum() == test_utterances
    speakers = pd.read_csv(details / "by_speaker.tsv", sep="\t")
    assert speakers["utterances"].sum() == test_utterances and set(speakers["speaker"]) == set(predictions["speaker"])
    accents = pd.read_csv(details / "by_accent.tsv", sep="\t")  # a column the synthetic source adds
    assert accents["utterances"].sum() == test_utterances
    char_errors = pd.read_csv(details / "confusions.tsv", sep="\t", keep_default_na=False)
    assert len(char_errors) == round(evaluation["cer"] * predictions["reference_chars"].sum())
    assert set(pd.read_csv(details / "top_errors.tsv", sep="\t")["unit"]) <= {"word", "char"}


def test_model_directory_loads_with_plain_transformers(repo, first_run):
    from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor, Wav2Vec2ProcessorWithLM

    model = Wav2Vec2ForCTC.from_pretrained(repo / "models/asr")
    processor = Wav2Vec2Processor.from_pretrained(repo / "models/ctc")
    vocab = json.loads((repo / "data/vocab.json").read_text())
    assert model.config.pad_token_id == processor.tokenizer.pad_token_id == vocab["[PAD]"]
    with_lm = Wav2Vec2ProcessorWithLM.from_pretrained(repo / "models/asr")
    assert with_lm.tokenizer.get_vocab() == vocab
    card = (repo / "models/asr/README.md").read_text()
    assert "| source | synthetic |" in card
    alpha = json.loads((repo / "metrics/tune.json").read_text())["alpha"]
    assert "## Language model" in card and f"| alpha (LM weight) | {alpha} |" in card


def test_the_model_card_carries_the_full_test_results_for_the_hub(repo, first_run):
    from huggingface_hub import ModelCard

    settled(repo)
    metadata = ModelCard.load(repo / "models/asr/README.md").data
    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    results = {(r.metric_type, r.metric_name): r.metric_value for r in metadata.eval_results}
    names = {"ngram": "n-gram LM", "greedy": "greedy"}
    assert results == {(m, f"Test {m.upper()} ({names[d]})"): evaluation[d][m] for d in names for m in ("wer", "cer")}
    assert {r.dataset_split for r in metadata.eval_results} == {"test"} and metadata.datasets is None  # no Hub dataset
    assert metadata.pipeline_tag == "automatic-speech-recognition" and metadata.license and metadata.base_model is None


OLDEST_TRANSFORMERS = ["transformers==4.45.2", "tokenizers==0.20.3", "huggingface-hub==0.36.0"]  # pyproject's floor


def test_the_model_folders_load_with_the_oldest_transformers_declared(repo, first_run, tmp_path):
    settled(repo)
    target = tmp_path / "old"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    *OLDEST_TRANSFORMERS], check=True, capture_output=True)
    script = (
        "import transformers as t, sys\n"
        "assert t.__version__ == '4.45.2', t.__version__\n"
        "t.Wav2Vec2ForCTC.from_pretrained('models/asr')\n"
        "print(type(t.AutoProcessor.from_pretrained('models/asr')).__name__,"
        " type(t.AutoProcessor.from_pretrained('models/ctc')).__name__,"
        " t.pipeline('automatic-speech-recognition', model='models/asr').type)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", script], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["Wav2Vec2ProcessorWithLM", "Wav2Vec2Processor", "ctc_with_lm"]


def test_transcribe_command_reads_a_test_clip(repo, first_run):
    raw = pd.read_csv(repo / "data/raw/manifest.tsv", sep="\t")
    clip = repo / "data/raw" / raw.loc[raw.split == "test", "path"].iloc[0]
    done = run(repo, sys.executable, "-m", "ctc_asr", "transcribe", "--model", "models/asr", "--format", "json", str(clip))
    assert json.loads(done.stdout)["seconds"] == pytest.approx(raw.loc[raw.split == "test", "seconds"].iloc[0], abs=0.01)


def test_dvc_reads_metrics_and_plots(repo, first_run):
    shown = json.loads(run(repo, sys.executable, "-m", "dvc", "metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]
    assert "wer" in files["metrics/eval.json"]["data"]
    plots = run(repo, sys.executable, "-m", "dvc", "plots", "show", "--json").stdout
    for title in ("Training loss", "Dev WER during training", "Dev CER during training", "WER by clip duration",
                  "Confusions (characters, or phones for the phone target)"):
        assert title in plots


def test_gate_passes_unchanged_metrics_and_fails_a_worse_wer(repo, first_run):
    settled(repo)
    commit(repo, "baseline")
    passed = run(repo, sys.executable, "-m", "ctc_asr", "gate", "HEAD")
    assert "gate: passed" in passed.stdout and "| wer |" in passed.stdout
    metrics = repo / "metrics/eval.json"
    original = metrics.read_text()
    try:
        metrics.write_text(json.dumps({**json.loads(original), "wer": json.loads(original)["wer"] + 0.1}))
        failed = run(repo, sys.executable, "-m", "ctc_asr", "gate", "HEAD", check=False)
    finally:
        metrics.write_text(original)
    assert failed.returncode == 1
    assert "wer rose from" in failed.stderr and "| wer |" in failed.stdout
    typo = run(repo, sys.executable, "-m", "ctc_asr", "gate", "no-such-branch", check=False)
    assert typo.returncode == 2 and error_lines(typo.stderr) == ["error: no-such-branch: not a git commit, branch or tag here"]


def test_changing_train_params_reruns_only_what_follows_train_and_a_noise_folder_in_its_deps_reruns_it(repo, first_run):
    import numpy as np
    import soundfile as sf

    settled(repo)
    assert stages_run(run(repo, sys.executable, "-m", "dvc", "repro").stdout) == []
    weights = (repo / "models/ctc/model.safetensors").read_bytes()
    # a folder of noise recordings, added to train's deps as docs/experiments.md says
    pipeline = (repo / "dvc.yaml").read_text()
    try:
        (repo / "noise").mkdir()
        sf.write(repo / "noise/hum.wav", 0.1 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 50), 8000)
        stages = yaml.safe_load(pipeline)
        stages["stages"]["train"]["deps"].append("noise")
        (repo / "dvc.yaml").write_text(yaml.safe_dump(stages, sort_keys=False))
        set_params(repo, {"train": {"learning_rate": 0.002},
                          "augment": {"speed": {"enabled": True},
                                      "noise": {"enabled": True, "sources": ["files"], "folder": "noise"}}})
        done = run(repo, sys.executable, "-m", "dvc", "repro")
        assert stages_run(done.stdout) == ["train", "tune", "evaluate"] and "warning" not in done.stderr
        assert (repo / "models/ctc/model.safetensors").read_bytes() != weights
        sf.write(repo / "noise/hum.wav", 0.1 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 60), 8000)
        changed = json.loads(run(repo, sys.executable, "-m", "dvc", "status", "--json").stdout)
        assert list(changed) == ["train"] and {"changed deps": {"noise": "modified"}} in changed["train"]
        (repo / "dvc.yaml").write_text(pipeline)  # not listed: train says so
        done = run(repo, sys.executable, "-m", "dvc", "repro", "--force", "--single-item", "train")
        assert "augment.noise.folder (noise) is not among train's deps in dvc.yaml" in done.stderr
    finally:
        (repo / "dvc.yaml").write_text(pipeline)
        shutil.rmtree(repo / "noise", ignore_errors=True)


def test_lm_order_zero_decodes_greedily_without_retraining_and_going_back_restores_from_the_run_cache(repo, first_run):
    settled(repo)
    order = yaml.safe_load((repo / "params.yaml").read_text())["ngram"]["order"]
    set_params(repo, {"ngram": {"order": 0}})
    assert stages_run(run(repo, sys.executable, "-m", "dvc", "repro").stdout) == ["lm", "tune", "evaluate"]
    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    assert evaluation["decoding"] == "greedy" and "ngram" not in evaluation and evaluation["wer"] == evaluation["greedy"]["wer"]
    assert not (repo / "models/asr/language_model").exists()
    set_params(repo, {"ngram": {"order": order}})
    back = run(repo, sys.executable, "-m", "dvc", "repro").stdout
    assert stages_run(back) == []  # nothing recomputed ...
    for stage in ("lm", "tune", "evaluate"):
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in back  # ... but restored
    assert json.loads((repo / "metrics/lm.json").read_text())["order"] == order and (repo / "data/lm/lm.arpa").is_file()
    assert (repo / "models/asr/language_model").is_dir()


def test_a_queued_variant_runs_the_code_it_was_queued_with_on_two_processes_and_leaves_the_workspace(repo, first_run):
    settled(repo)
    commit(repo, "before queueing")
    before = (repo / "metrics/train.json").read_text()
    # two processes: torchrun with gloo on a CPU
    run(repo, sys.executable, "-m", "dvc", "exp", "run", "--queue", "-n", "variant", "-S", "train.epochs=1",
        "-S", "train.gpus=2")
    library = repo / "src/ctc_asr/__init__.py"
    original = library.read_text()
    try:  # the workspace's library breaks after queueing: the queued run must not use it
        library.write_text(original + "raise ImportError('the workspace library, not the queued one')\n")
        run(repo, sys.executable, "-m", "dvc", "exp", "run", "--run-all")
    finally:
        library.write_text(original)
    shown = json.loads(run(repo, sys.executable, "-m", "dvc", "exp", "show", "--json").stdout)
    [variant] = [e for commit in shown for e in commit.get("experiments") or [] if e.get("name") == "variant"]
    result = variant["revs"][0]["data"]
    assert result["params"]["params.yaml"]["data"]["train"]["epochs"] == 1
    train = result["metrics"]["metrics/train.json"]["data"]
    assert train["epochs"] == 1 and train["processes"] == 2
    assert "wer" in result["metrics"]["metrics/eval.json"]["data"]
    assert (repo / "metrics/train.json").read_text() == before  # run in a copy: the workspace stays as it was


def test_a_clone_pulls_from_a_remote_and_has_nothing_to_rebuild(repo, first_run, tmp_path):
    settled(repo)
    run(repo, sys.executable, "-m", "dvc", "remote", "add", "--force", "-d", "shared", str(tmp_path / "remote"))
    commit(repo, "with a remote")
    run(repo, sys.executable, "-m", "dvc", "push")
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    run(clone, sys.executable, "-m", "dvc", "pull")
    assert "up to date" in run(clone, sys.executable, "-m", "dvc", "status").stdout
    assert stages_run(run(clone, sys.executable, "-m", "dvc", "repro").stdout) == []
    assert (clone / "models/asr/model.safetensors").read_bytes() == (repo / "models/asr/model.safetensors").read_bytes()


def test_the_phone_target_runs_end_to_end_from_normalize_and_scores_per(repo, first_run):
    settled(repo)
    set_params(repo, {"target": "phones"})
    done = run(repo, sys.executable, "-m", "dvc", "repro")
    # download is not rerun: it recorded eSpeak's phonemes with the words all along
    assert sorted(stages_run(done.stdout)) == sorted(["normalize", "lm", "vocab", "encode", "filter", "train", "tune",
                                                      "evaluate"])
    transcripts = pd.read_csv(repo / "data/text/transcripts.tsv", sep="\t", keep_default_na=False)
    raw = pd.read_csv(repo / "data/raw/manifest.tsv", sep="\t", keep_default_na=False)
    assert transcripts["text"].tolist() == [" ".join(p.split()) for p in raw["phones"]]
    tokens = json.loads((repo / "data/vocab.json").read_text())
    assert "|" not in tokens and any(len(t) > 1 and not t.startswith("[") for t in tokens)  # whole phones
    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    assert evaluation["decoding"] == "greedy" and "wer" not in evaluation and "cer" not in evaluation
    predictions = pd.read_csv(repo / "metrics/predictions.tsv", sep="\t", keep_default_na=False)
    errors = predictions["errors"].sum() / predictions["reference_phones"].sum()
    assert evaluation["per"] == pytest.approx(errors, abs=1e-4) and evaluation["greedy"] == {"per": evaluation["per"]}
    assert set(tokens) >= set(predictions["hypothesis"].str.split().explode().dropna())  # the model writes phones
    diff = run(repo, sys.executable, "-m", "dvc", "metrics", "show", "--json").stdout
    assert '"per"' in diff
    card = (repo / "models/asr/README.md").read_text()
    assert "PER" in card
    clip = repo / "data/raw" / raw.loc[raw["split"] == "test", "path"].iloc[0]
    done = run(repo, sys.executable, "-m", "ctc_asr", "transcribe", "--model", "models/asr", "--format", "json", str(clip))
    line = json.loads(done.stdout)
    assert set(line["text"].split()) <= set(tokens) and [w["word"] for w in line["words"]] == line["text"].split()
    gated = run(repo, sys.executable, "-m", "ctc_asr", "gate", "HEAD", check=False)  # judged by its PER
    assert gated.returncode == 0 and "| per |" in gated.stdout and "gate: passed (PER" in gated.stdout


def test_bad_params_stop_a_stage_with_one_line(repo, first_run):
    set_params(repo, {"train": {"lerning_rate": 0.1}})
    done = run(repo, sys.executable, "stages/train.py", check=False)
    assert done.returncode == 2
    [error] = error_lines(done.stderr)
    assert "train.lerning_rate" in error


def recordings_corpus(folder: Path) -> Path:
    """Three good clips (train, test, dev) and one that is not audio, listed in a CSV manifest."""
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("one.wav", "two.flac", "three.wav"):
        sf.write(folder / name, np.random.default_rng(0).standard_normal(16000).astype("float32") * 0.1, 16000)
    (folder / "broken.wav").write_text("this is not audio")
    rows = ["path,text,split", "one.wav,Hello there.,train", "broken.wav,Who knows?,train", "two.flac,Good bye.,test",
            "three.wav,See you.,dev"]
    (folder / "corpus.csv").write_text("\n".join(rows) + "\n")
    return folder / "corpus.csv"


@pytest.mark.parametrize("on_error", ["fail", "skip"])
def test_bad_audio_stops_download_or_is_counted(repo, tmp_path, on_error):
    corpus = recordings_corpus(tmp_path / "recordings")
    work = tmp_path / "work"  # a copy of the project's code and params: the stage writes there, not in repo
    for folder in ("stages", "src"):
        shutil.copytree(repo / folder, work / folder)
    shutil.copy(repo / "params.yaml", work / "params.yaml")
    set_params(work, {"data": {"source": "manifest", "on_error": on_error, "manifest": {"path": str(corpus)}}})
    done = run(work, sys.executable, "stages/download.py", check=False)
    if on_error == "fail":
        assert done.returncode == 2
        [error] = error_lines(done.stderr)
        assert "broken.wav" in error and "not readable audio" in error
    else:
        assert done.returncode == 0, done.stderr
        rejects = pd.read_csv(work / "metrics/rejects/download.tsv", sep="\t")
        assert rejects["reason"].tolist() == ["not readable audio"] and "broken.wav" in rejects["item"].iloc[0]
        report = json.loads((work / "metrics/download.json").read_text())
        assert report["rejected"] == {"not readable audio": 1} and report["utterances"] == {"dev": 1, "test": 1, "train": 1}


def test_a_killed_train_stage_resumes_on_the_next_repro(repo, first_run):
    import signal
    import time

    settled(repo)
    checkpoint = repo / "models/checkpoint/last.pt"
    set_params(repo, {"train": {"epochs": 12, "batch_seconds": 3, "log_every": 1, "eval_every": 50,
                                "checkpoint_every": 10, "workers": 0, "gpus": 1}})
    env = dict(os.environ, PYTHONPATH=str(repo / "src"), DVC_NO_ANALYTICS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    killed = subprocess.Popen([sys.executable, "-m", "dvc", "repro"], cwd=repo, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not checkpoint.exists() and killed.poll() is None:
        time.sleep(0.02)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert checkpoint.exists(), "the run ended before it could be killed"
    done = run(repo, sys.executable, "-m", "dvc", "repro")
    assert stages_run(done.stdout) == ["train", "tune", "evaluate"]
    resumed_at = int(re.search(r"resuming at step (\d+)", done.stdout + done.stderr).group(1))
    train = json.loads((repo / "metrics/train.json").read_text())
    steps = pd.read_csv(repo / "metrics/train/steps.tsv", sep="\t")["step"].tolist()
    assert 0 < resumed_at < train["steps"]
    assert steps == list(range(1, train["steps"] + 1))  # records before the checkpoint kept, none twice
    assert not checkpoint.exists()


def cache_objects_match_their_names(repo: Path) -> bool:
    objects = [p for p in (repo / ".dvc/cache/files/md5").rglob("*") if p.is_file()]
    return bool(objects) and all(
        hashlib.md5(p.read_bytes()).hexdigest() == p.parent.name + p.name.removesuffix(".dir") for p in objects)


def test_a_stage_that_outlives_its_dvc_run_cannot_change_the_cache(repo, first_run, tmp_path):
    import signal
    import time

    settled(repo)
    # The orphan: an encode whose `dvc repro` is killed while it writes. Here it is held just
    # before it finishes its store (the index and store.json), until the next run is done. The
    # hook is on the stage's own path (src/, see dvc.yaml's cmd) and acts in the orphan alone.
    waiting, go = tmp_path / "waiting", tmp_path / "go"
    hook = repo / "src/sitecustomize.py"
    hook.write_text(
        "import os, pathlib, time\n"
        "if os.environ.get('HOLD_ENCODE'):\n"
        "    from ctc_asr.data import store\n"
        "    close = store.Writer.close\n"
        "    def held(self):\n"
        f"        pathlib.Path({str(waiting)!r}).touch()\n"
        f"        while not pathlib.Path({str(go)!r}).exists():\n            time.sleep(0.05)\n"
        "        return close(self)\n"
        "    store.Writer.close = held\n")
    set_params(repo, {"encode": {"dtype": "float32"}})
    env = dict(os.environ, PYTHONPATH=str(repo / "src"), DVC_NO_ANALYTICS="1", HOLD_ENCODE="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    dvc = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "encode"], cwd=repo, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not waiting.exists() and dvc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        hook.unlink()  # read at the orphan's start: no other process sees it
    assert waiting.exists(), "encode never reached its store's index"
    orphan = next(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _runs_encode(p, repo))
    dvc.send_signal(signal.SIGKILL)  # DVC only: its encode goes on
    dvc.wait()
    set_params(repo, {"encode": {"dtype": "int16"}})
    again = run(repo, sys.executable, "-m", "dvc", "repro", "encode")  # restored from the run-cache, linked
    assert "encode" in again.stdout
    assert (repo / "data/encoded/store.json").stat().st_nlink == 2  # the workspace's store is the cache's
    go.touch()
    while not _ended(orphan) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ended(orphan), "the orphan never finished"
    assert cache_objects_match_their_names(repo)
    assert not list((repo / "data").glob(".encoded.*"))  # nothing left beside the output


def _ended(pid: int) -> bool:
    """Gone, or a zombie that no parent reaps (an orphan's parent was killed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _runs_encode(proc: Path, repo: Path) -> bool:
    try:
        return b"stages/encode.py" in (proc / "cmdline").read_bytes() and (proc / "cwd").resolve() == repo.resolve()
    except OSError:
        return False


def test_a_failing_encode_leaves_no_store(repo, first_run):
    settled(repo)
    manifest = repo / "data/text/transcripts.tsv"
    frame = pd.read_csv(manifest, sep="\t", keep_default_na=False, dtype=str)
    broken = frame.assign(path=[*frame["path"][:-1], "no/such/clip.flac"])  # the last clip: after the others are written
    manifest.unlink()  # a link to the cache: replaced, never written into
    broken.to_csv(manifest, sep="\t", index=False)
    failed = run(repo, sys.executable, "stages/encode.py", check=False)
    assert failed.returncode == 2 and len(error_lines(failed.stderr)) == 1
    assert not (repo / "data/encoded").exists() and not list((repo / "data").glob(".encoded.*"))
    assert cache_objects_match_their_names(repo)
    run(repo, sys.executable, "-m", "dvc", "checkout", "--force")


def test_a_params_typo_in_train_costs_no_training(repo, first_run):
    settled(repo)
    weights = (repo / "models/ctc/model.safetensors").read_bytes()
    original = (repo / "params.yaml").read_text()
    set_params(repo, {"train": {"learning_rate": "fast"}})
    failed = run(repo, sys.executable, "-m", "dvc", "repro", check=False)
    assert failed.returncode != 0 and error_lines(failed.stderr)
    (repo / "params.yaml").write_text(original)  # the typo fixed
    back = run(repo, sys.executable, "-m", "dvc", "repro").stdout
    assert stages_run(back) == [] and "Stage 'train' is cached - skipping run, checking out outputs" in back
    assert (repo / "models/ctc/model.safetensors").read_bytes() == weights


def output_hashes(repo: Path) -> dict[str, str]:
    """The MD5 dvc.lock records for every stage output, less the timings (they differ run to run)."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])
            if not out["path"].startswith("metrics/timing/")}


def another(value):
    """A value for a runtime-only knob other than `value`: a worker count or an interval (null: every core)."""
    assert value is None or type(value) is int, f"no other value known for {value!r}"
    if value is None:
        return 1 if (os.cpu_count() or 1) > 1 else 2
    return 1 if value != 1 else 2


def test_runtime_only_knobs_rerun_nothing_and_every_stage_run_with_them_changed_writes_the_same_bytes(repo, first_run):
    from ctc_asr.core.params import RUNTIME_ONLY

    settled(repo)
    before = output_hashes(repo)
    for key in sorted(RUNTIME_ONLY):
        *sections, name = key.split(".")
        values = yaml.safe_load((repo / "params.yaml").read_text())
        for section in sections:
            values = values[section]
        update = {name: another(values[name])}
        for section in reversed(sections):
            update = {section: update}
        set_params(repo, update)
        assert json.loads(run(repo, sys.executable, "-m", "dvc", "status", "--json").stdout) == {}, key
    done = run(repo, sys.executable, "-m", "dvc", "exp", "run", "-S", "train.workers=4")  # as docs/experiments.md says
    assert stages_run(done.stdout) == []
    # and they are runtime-only indeed: with every one changed, each stage forced writes what it wrote before
    forced = run(repo, sys.executable, "-m", "dvc", "repro", "--force")
    assert sorted(stages_run(forced.stdout)) == sorted(yaml.safe_load((repo / "dvc.yaml").read_text())["stages"])
    assert output_hashes(repo) == before
    assert before and all(out in before for out in ("models/ctc", "models/asr", "data/raw", "data/encoded"))
    # DVC leaves an output that was in the cache already as it is, a second copy: --relink links it
    run(repo, sys.executable, "-m", "dvc", "checkout", "--relink")
    # the workspace's files are links to the cache (.dvc/config), and no rerun wrote into one
    assert (repo / "data/encoded/audio.i16").stat().st_nlink == 2
    assert cache_objects_match_their_names(repo)
