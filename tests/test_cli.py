import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr.cli import main
from ctc_asr.data import audio
from ctc_asr.decoding import inference, ngram, recogniser
from ctc_asr.network import model


@pytest.fixture
def model_dir(tmp_path, tiny_config, tokenizer):
    torch.manual_seed(0)
    network = model.build("scratch", tiny_config, {}, tokenizer, seed=0)
    folder = tmp_path / "model"
    network.save_pretrained(folder)
    model.processor(tokenizer, network.config, 16000).save_pretrained(folder)
    return folder


@pytest.fixture
def lm_model_dir(tmp_path, model_dir):
    """model_dir with a word trigram decoder, as the tune stage writes models/asr."""
    sentences = [s.split() for s in ["a bad cab", "a dab", "bad cab ab", "cab a bad"]]
    (tmp_path / "lm").mkdir()
    ngram.write_arpa(ngram.estimate(sentences, 3), tmp_path / "lm" / ngram.ARPA)
    (tmp_path / "lm" / ngram.UNIGRAMS).write_text("a\nab\nbad\ncab\ndab\n")
    folder = tmp_path / "asr"
    recogniser.assemble(model_dir, tmp_path / "lm", alpha=0.5, beta=1.0, beam_width=50, folder=folder)
    return folder


@pytest.fixture
def recordings(tmp_path):
    rng = np.random.default_rng(0)
    stereo = tmp_path / "stereo.flac"
    sf.write(stereo, rng.uniform(-0.5, 0.5, (44100 * 2, 2)), 44100, subtype="PCM_24")
    narrow = tmp_path / "narrow.wav"
    sf.write(narrow, rng.uniform(-0.5, 0.5, 8000 * 5), 8000, subtype="PCM_16")
    return [stereo, narrow]


def run(capsys, *argv):
    main(["transcribe", *map(str, argv)])
    return capsys.readouterr().out.splitlines()


def test_text_output_matches_the_library_transcription(capsys, model_dir, recordings):
    lines = run(capsys, "--model", model_dir, *recordings)
    network, processor = Wav2Vec2ForCTC.from_pretrained(model_dir), Wav2Vec2Processor.from_pretrained(model_dir)
    expected = inference.greedy_texts(network, processor, [audio.load(p, 16000) for p in recordings])
    assert lines == [f"{p}\t{text}" for p, text in zip(recordings, expected)]


def test_json_output_has_words_with_times(capsys, model_dir, recordings):
    lines = run(capsys, "--model", model_dir, "--format", "json", "--chunk-seconds", "1", "--overlap-seconds", "0.2",
                *recordings)
    results = [json.loads(line) for line in lines]
    assert [r["file"] for r in results] == [str(p) for p in recordings]
    assert [r["seconds"] for r in results] == [2.0, 5.0]
    for result in results:
        assert [w["word"] for w in result["words"]] == result["text"].split()
        times = [t for w in result["words"] for t in (w["start"], w["end"])]
        assert times == sorted(times) and all(0 <= t <= result["seconds"] + 0.05 for t in times)


def test_a_folder_with_an_lm_decodes_with_it_unless_told_not_to(capsys, model_dir, lm_model_dir, recordings):
    from transformers import Wav2Vec2ProcessorWithLM

    from ctc_asr.decoding.longform import Chunking, recording_logits

    results = [json.loads(line) for line in run(capsys, "--model", lm_model_dir, "--format", "json", *recordings)]
    network, processor = Wav2Vec2ForCTC.from_pretrained(lm_model_dir), Wav2Vec2ProcessorWithLM.from_pretrained(lm_model_dir)
    chunking = Chunking.of(network, 16000, 20.0, 2.0)
    for path, result in zip(recordings, results):
        scores = recording_logits(network, audio.load(path, 16000), chunking)
        assert result["text"] == " ".join(processor.decode(scores.numpy(), beam_width=50).text.split())
        assert [w["word"] for w in result["words"]] == result["text"].split()
    greedy = run(capsys, "--model", lm_model_dir, "--no-lm", *recordings)
    assert greedy == run(capsys, "--model", model_dir, *recordings)
    assert [line.split("\t")[1] for line in greedy] != [r["text"] for r in results]  # the LM did change the text


def test_a_bad_file_is_one_line_naming_it(capsys, model_dir, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["transcribe", "--model", str(model_dir), str(broken)])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {broken}: not readable audio (Format not recognised.)"]


def test_a_bad_file_among_good_ones_is_reported_and_the_rest_transcribed(capsys, model_dir, recordings, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["transcribe", "--model", str(model_dir), str(recordings[0]), str(broken), str(recordings[1])])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert [line.split("\t")[0] for line in out.splitlines()] == [str(recordings[0]), str(recordings[1])]
    assert err.strip().splitlines() == [f"error: {broken}: not readable audio (Format not recognised.)",
                                        "transcribe: 1 of 3 files could not be read"]


def test_a_folder_without_a_model_is_one_line(capsys, tmp_path, recordings):
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["transcribe", "--model", str(tmp_path / "nowhere"), str(recordings[0])])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path / 'nowhere'}: not a model directory")


def test_module_entry_point_prints_help():
    done = subprocess.run([sys.executable, "-m", "ctc_asr", "transcribe", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--chunk-seconds" in done.stdout


def test_preset_command_merges_a_preset_and_settings(tmp_path, capsys):
    import yaml

    project = Path(__file__).resolve().parents[1]
    target = tmp_path / "params.yaml"
    shutil.copy(project / "params.yaml", target)
    main(["preset", str(project / "presets/timit-tuned.yaml"), "data.timit.root=/corpora/TIMIT", "train.epochs=2",
          "--params", str(target)])
    written = yaml.safe_load(target.read_text())
    assert written["data"]["timit"] == {"root": "/corpora/TIMIT", "keep_sa": False, "test_set": "core"}
    assert written["train"]["epochs"] == 2 and written["filter"]["max_seconds"] == 8.0
    assert "train.epochs" in capsys.readouterr().out


def test_preset_command_refuses_a_setting_without_a_value(tmp_path, capsys):
    project = Path(__file__).resolve().parents[1]
    with pytest.raises(SystemExit) as exited:
        main(["preset", str(project / "presets/timit-seed.yaml"), "data.timit.root", "--params", str(tmp_path / "p.yaml")])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("error: data.timit.root: expected KEY=VALUE")


def test_gate_command_passes_equal_metrics_and_fails_a_rise(tmp_path, monkeypatch, capsys):
    project = Path(__file__).resolve().parents[1]
    shutil.copy(project / "params.yaml", tmp_path / "params.yaml")  # its gate limits are well below a 0.1 rise
    metrics = tmp_path / "metrics" / "eval.json"
    metrics.parent.mkdir()
    metrics.write_text(json.dumps({"wer": 0.5, "cer": 0.2}))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "baseline"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    main(["gate", "HEAD"])
    out = capsys.readouterr().out
    assert "| wer | 0.5 | 0.5 | +0.0000 |" in out and "gate: passed" in out
    metrics.write_text(json.dumps({"wer": 0.6, "cer": 0.2}))
    with pytest.raises(SystemExit) as exited:
        main(["gate", "HEAD"])
    assert exited.value.code == 1 and "wer rose from 0.5 to 0.6" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["gate", "no-such-branch"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == "error: no-such-branch: not a git commit, branch or tag here"


def test_gate_command_judges_cer_alone_where_it_is_the_headline(tmp_path, monkeypatch, capsys):
    project = Path(__file__).resolve().parents[1]
    shutil.copy(project / "params.yaml", tmp_path / "params.yaml")
    metrics = tmp_path / "metrics" / "eval.json"
    metrics.parent.mkdir()
    metrics.write_text(json.dumps({"wer": 0.9, "cer": 0.2, "headline": "cer"}))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "baseline"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    metrics.write_text(json.dumps({"wer": 1.0, "cer": 0.2, "headline": "cer"}))  # WER of unspaced text: noise
    main(["gate", "HEAD"])
    out = capsys.readouterr().out
    assert "| wer |" not in out and "| cer | 0.2 | 0.2 | +0.0000 |" in out and "gate: passed (CER against HEAD" in out
    metrics.write_text(json.dumps({"wer": 0.9, "cer": 0.3, "headline": "cer"}))
    with pytest.raises(SystemExit) as exited:
        main(["gate", "HEAD"])
    assert exited.value.code == 1 and "cer rose from 0.2 to 0.3" in capsys.readouterr().err



@pytest.mark.parametrize("what, says", [("folder", "is a directory"),
                                        ("link", "not a regular file (character device /dev/zero)")])
def test_a_folder_or_a_device_is_named_for_what_it_is(capsys, tmp_path, what, says):
    given = tmp_path / "talk.wav"
    if what == "folder":
        given.mkdir()
    else:
        given.symlink_to("/dev/zero")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:  # before any model is loaded: there is none
        main(["transcribe", "--model", str(tmp_path / "nowhere"), str(given)])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {given}: {says}"]
