"""End to end in a language written without spaces: `dvc repro` on a manifest of Mandarin clips (sine tones:
the model need not learn), scored by CER, with no word LM and the reason written down."""

import json
import sys
import unicodedata

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from e2e import TINY, commit, project_copy, run

pytestmark = pytest.mark.e2e

PROJECT_TINY = {name: section for name, section in TINY.items() if name != "data"}  # model, train, decode
# speaker, split, transcript as typed (full-width punctuation, which the default chars_to_ignore removes)
CLIPS = [
    ("s1", "train", "今天天气很好。"), ("s1", "train", "我们一起去公园吧！"), ("s2", "train", "他是一位老师，"),
    ("s2", "train", "你吃饭了吗？"), ("s3", "train", "这本书非常有意思。"), ("s3", "train", "明天见！"),
    ("s4", "train", "请慢慢说。"), ("s4", "train", "火车站在哪里？"),
    ("s5", "dev", "我喜欢喝茶。"), ("s5", "dev", "外面在下雨，"), ("s5", "dev", "谢谢你的帮助！"),
    ("s6", "test", "周末我们去爬山。"), ("s6", "test", "她在学习中文。"), ("s7", "test", "电脑坏了。"),
]


def mandarin_corpus(folder) -> str:
    """A CSV manifest of one sine tone per clip, each at its own pitch."""
    folder.mkdir(exist_ok=True)
    rows = ["path,text,speaker,split"]
    for k, (speaker, split, text) in enumerate(CLIPS):
        seconds = np.arange(int(1.5 * 16000)) / 16000
        sf.write(folder / f"{k}.wav", 0.3 * np.sin(2 * np.pi * (200 + 40 * k) * seconds), 16000)
        rows.append(f"{k}.wav,{text},{speaker},{split}")
    (folder / "corpus.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(folder / "corpus.csv")


@pytest.fixture(scope="module")
def mandarin(tmp_path_factory):
    """The project on the Mandarin corpus, after `dvc repro`: (repo, the repro's stdout)."""
    corpus = mandarin_corpus(tmp_path_factory.mktemp("corpus"))
    repo = project_copy(tmp_path_factory.mktemp("mandarin"), PROJECT_TINY,
                        {"data": {"source": "manifest", "manifest": {"path": corpus}}, "normalize": {"language": "zh"}})
    return repo, run(repo, sys.executable, "-m", "dvc", "repro").stdout


def test_a_mandarin_corpus_is_scored_by_cer_without_a_word_lm(mandarin):
    repo, output = mandarin
    transcripts = pd.read_csv(repo / "data/text/transcripts.tsv", sep="\t", keep_default_na=False)
    expected = {text.rstrip("。！，？") for _, _, text in CLIPS}
    assert set(transcripts["text"]) == expected  # the full-width punctuation removed, nothing else
    assert all(unicodedata.is_normalized("NFC", t) for t in transcripts["text"])

    assert "written without spaces" in (repo / "data/lm/none").read_text()
    assert "lm: the training transcripts are written without spaces" in output
    assert json.loads((repo / "metrics/lm.json").read_text()) == {"order": 0}

    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    assert evaluation["headline"] == "cer" and evaluation["decoding"] == "greedy"
    assert list(evaluation["greedy"]) == ["cer", "wer"]  # the headline first
    card = (repo / "models/asr/README.md").read_text()
    assert "language: zh" in card and "CER is the headline rate" in card and "(zh, characters)" in card

    # the gate judges the headline: CER alone
    commit(repo, "results")
    gate = run(repo, sys.executable, "-m", "ctc_asr", "gate", "HEAD").stdout
    assert "| cer |" in gate and "| wer |" not in gate and "gate: passed (CER against HEAD" in gate
