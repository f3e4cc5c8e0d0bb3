"""The explorer (python -m ctc_asr explore) on runs written here: reading the results, the alignments, the table's
queries, the comparison, and the HTTP routes (clips by id only: `../` and absolute paths get a 404).

`write_run` fabricates a run's outputs as evaluate and the stages before it lay them out (words or phones, any
size); tests/test_explorer_e2e.py uses it for its 5,000-clip page."""

import http.client
import io
import json
import threading
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctc_asr.cli import main
from ctc_asr.core import tables
from ctc_asr.data import store
from ctc_asr.evaluation.scoring import NOTHING, by_group, duration_buckets, error_pairs, most_frequent, score
from ctc_asr.explorer import align, results
from ctc_asr.explorer.app import Explorer, buckets
from ctc_asr.explorer.server import Server, byte_range

WORDS = ("the a of to in is it that was for on are as with his they at be this from have or by one had not but what "
         "all were when we there can an your which their said if do will each about how up out them then she many "
         "some so these would other into has more her two like him see time could no make than first been its who "
         "now people my made over did down only way find use may water long little very after words called just").split()
RATE = 8000  # Hz of the fabricated clips: small, and a rate the store keeps as it is


def garbled(words: list[str], rng: np.random.Generator, p: float) -> str:
    """`words` with each one substituted, deleted or followed by an insertion with probability `p`."""
    out = []
    for word in words:
        draw = rng.random()
        if draw < p / 3:
            out.append(WORDS[rng.integers(len(WORDS))])
        elif draw < 2 * p / 3:
            continue
        else:
            out.append(word)
            if draw < p:
                out.append(WORDS[rng.integers(len(WORDS))])
    return " ".join(out)


def write_run(folder: Path, n: int, phones: bool = False, seed: int = 0) -> pd.DataFrame:
    """A finished run's outputs under `folder`: n test clips of 40 speakers in 5 accents, LM and greedy hypotheses
    (greedy only for phones, scored by PER), the details of metrics/eval, the store with every clip. Returns the
    predictions table."""
    rng = np.random.default_rng(seed)
    test = pd.DataFrame({"id": [f"utt{k:05d}" for k in range(n)], "speaker": [f"spk{k % 40:02d}" for k in range(n)],
                         "accent": [f"acc{k % 5}" for k in range(n)],
                         "text": [" ".join(rng.choice(WORDS, rng.integers(3, 12))) for _ in range(n)]})
    test["seconds"] = rng.integers(100, 300, n) / 1000  # 0.1 to 0.3 s, in whole samples
    greedy = [garbled(t.split(), rng, 0.5) for t in test["text"]]
    hypotheses = greedy if phones else [garbled(t.split(), rng, 0.3) for t in test["text"]]
    write_store(folder / "data/encoded", test, rng)
    totals, errors = score(test["text"].tolist(), hypotheses)
    table = test.rename(columns={"text": "reference"}).assign(hypothesis=hypotheses, **errors.to_dict("list"))
    predictions = table.drop(columns="accent").assign(greedy_hypothesis=greedy)
    metrics = {**totals, "decoding": "greedy" if phones else "ngram", "utterances": n,
               "audio_seconds": float(test["seconds"].sum())}
    if phones:  # phones are scored as words are, and named for phones
        predictions = predictions.drop(columns=["char_errors", "reference_chars"]).rename(
            columns={"reference_words": "reference_phones"})
        metrics = {"per": totals["wer"], **{k: v for k, v in metrics.items() if k not in ("wer", "cer", "reference_words")},
                   "greedy": {"per": totals["wer"]}}
    else:
        metrics |= {"ngram": {"wer": totals["wer"], "cer": totals["cer"]},
                    "greedy": {k: v for k, v in score(test["text"].tolist(), greedy)[0].items() if k in ("wer", "cer")}}
    tables.write(predictions, folder / "metrics/predictions.tsv")
    write_json(folder / "metrics/eval.json", metrics)
    write_details(folder / "metrics/eval", table, phones)
    write_corpus(folder, test, phones)
    return predictions


def write_store(folder: Path, test: pd.DataFrame, rng: np.random.Generator) -> None:
    with store.Writer(folder, RATE, "int16") as writer:
        for row in test.to_dict("records"):
            clip = (0.3 * np.sin(np.arange(round(row["seconds"] * RATE)) * 0.05) * rng.uniform(0.2, 1)).astype(np.float32)
            writer.add({"id": row["id"], "split": "test", "speaker": row["speaker"], "text": row["text"],
                        "accent": row["accent"]}, clip, [])
        writer.add({"id": "train0", "split": "train", "speaker": "other", "text": "a", "accent": "acc0"}, np.zeros(80), [])


def write_details(folder: Path, table: pd.DataFrame, phones: bool) -> None:
    table = table.assign(duration=duration_buckets(table["seconds"], [0.15, 0.25]))
    for column in ("duration", "speaker", "accent"):
        groups = by_group(table, column)
        tables.write(groups.drop(columns="cer").rename(columns={"wer": "per"}) if phones else groups, folder / f"by_{column}.tsv")
    references, hypotheses = table["reference"].tolist(), table["hypothesis"].tolist()
    words = error_pairs(references, hypotheses, "word")
    chars = error_pairs(references, hypotheses, "char")
    units = [(words, "phone")] if phones else [(words, "word"), (chars, "char")]
    top = pd.concat([most_frequent(pairs, 20).assign(unit=unit) for pairs, unit in units])
    tables.write(top[["unit", "kind", "reference", "hypothesis", "count"]], folder / "top_errors.tsv")
    tables.write((words if phones else chars)[["reference", "hypothesis"]], folder / "confusions.tsv")


def write_corpus(folder: Path, test: pd.DataFrame, phones: bool) -> None:
    known = WORDS[:-10]  # the last ten words are unknown to the LM
    write_json(folder / "metrics/download.json", {"source": "synthetic", "utterances": {"test": len(test), "train": 1},
                                                  "speakers": {"test": 40, "train": 1}, "hours": {"test": 0.1, "train": 0.0}})
    write_json(folder / "data/vocab.json", [*sorted(set(" ".join(WORDS)) - {" "}), "|", "[UNK]", "[PAD]"])
    write_json(folder / "metrics/vocab.json", {"size": 30, "unseen_test_characters": {"count": 0, "by_character": {}}})
    if phones:
        write_json(folder / "metrics/lm.json", {"order": 0})
        return
    (folder / "data/lm").mkdir(parents=True, exist_ok=True)
    (folder / "data/lm/unigrams.txt").write_text("\n".join(known) + "\n")
    write_json(folder / "metrics/lm.json", {"order": 3, "sentences": 10, "words": 50, "vocabulary": len(known),
                                            "oov_rate": {"dev": 0.1, "test": 0.12}})


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    write_run(folder, 60)
    return folder


@pytest.fixture(scope="module")
def explorer(project) -> Explorer:
    return Explorer(project)


@pytest.fixture(scope="module")
def phone_explorer(tmp_path_factory) -> Explorer:
    folder = tmp_path_factory.mktemp("phones")
    write_run(folder, 30, phones=True)
    return Explorer(folder)


# ---- alignment ----

def test_alignment_marks_substitutions_deletions_and_insertions():
    tokens = align.aligned("a b c d", "a x c d e", "word")
    assert [(t["op"], t["ref"], t["hyp"]) for t in tokens] == [
        ("=", "a", "a"), ("S", "b", "x"), ("=", "c", "c"), ("=", "d", "d"), ("I", NOTHING, "e")]
    assert [t["op"] for t in align.aligned("a b c", "c", "word")] == ["D", "D", "="]
    assert [(t["op"], t["ref"]) for t in align.aligned("ab c", "ab", "char")][-2:] == [("D", "|"), ("D", "c")]


def test_error_counts_are_evaluate_s():
    references, hypotheses = ["a b c d", "x y", "p q r"], ["a x c d e", "", "p q r"]
    assert align.error_counts(references, hypotheses, "word").tolist() == score(references, hypotheses)[1]["errors"].tolist()
    assert align.error_counts([], [], "word").tolist() == []


def test_error_places_name_each_utterance_an_error_pair_is_in_once():
    places = align.error_places(["a b", "a b a b", "c"], ["a x", "a x a x", "c"], "word")
    assert places == {("b", "x"): [0, 1]}


# ---- reading a run ----

def test_results_carry_each_utterance_s_rate_and_greedy_rate(project):
    run = results.read(project, "workspace")
    table = run.table
    assert run.scoring == results.Scoring("wer", "word", "errors", "reference_words") and run.with_lm
    assert np.allclose(table["rate"], table["errors"] / table["reference_words"])
    greedy = score(table["reference"].tolist(), table["greedy_hypothesis"].tolist())[1]["errors"]
    assert table["greedy_errors"].tolist() == greedy.tolist()
    assert table["lm_worse"].tolist() == (table["errors"] > greedy).tolist() and table["lm_worse"].any()


def test_scoring_follows_what_eval_json_reports():
    assert results.Scoring.of({"per": 0.2}).unit == "phone"
    assert results.Scoring.of({"wer": 1.0, "cer": 0.2, "headline": "cer"}) == results.Scoring("cer", "char", "char_errors",
                                                                                                 "reference_chars")


def test_a_workspace_without_results_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(["explore"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "error: metrics/predictions.tsv: not found — run `dvc repro` first\n"


def test_duration_buckets_follow_evaluate_s_labels():
    assert buckets(pd.Series([0.5, 2.0, 9.0]), ["0-2s", "2-4s", "4-8s", "8+s"]).tolist() == ["0-2s", "2-4s", "8+s"]


# ---- what the page is sent ----

def test_summary_has_rates_groups_corpus_and_lm(explorer, project):
    summary = explorer.summary()
    metrics = json.loads((project / "metrics/eval.json").read_text())
    assert summary["headline"]["wer"] == metrics["wer"] and summary["decodings"]["greedy"] == metrics["greedy"]
    assert list(summary["groups"]) == ["duration", "speaker", "accent"]
    assert summary["filters"]["speaker"] == [f"spk{k:02d}" for k in range(40)]
    assert summary["corpus"]["utterances"]["test"] == 60 and summary["lm"]["oov_rate"]["test"] == 0.12
    assert summary["compare"] is None and summary["audio"]


def test_the_table_sorts_filters_and_pages(explorer):
    frame = explorer.frame
    worst = explorer.utterances({"sort": "rate", "desc": "1", "limit": "5"})
    assert worst["total"] == 60 and len(worst["rows"]) == 5
    assert worst["rows"][0]["rate"] == pytest.approx(frame["rate"].max(), abs=1e-4)
    rates = [r["rate"] for r in explorer.utterances({"sort": "rate", "desc": "0", "limit": "500"})["rows"]]
    assert rates == sorted(rates)
    speaker = explorer.utterances({"speaker": "spk03"})
    assert speaker["total"] == 2 and {r["speaker"] for r in speaker["rows"]} == {"spk03"}
    accent = explorer.utterances({"accent": "acc1", "duration": "0-0.15s"})
    assert {r["accent"] for r in accent["rows"]} == {"acc1"} and all(r["seconds"] < 0.15 for r in accent["rows"])
    assert explorer.utterances({"lm_worse": "1"})["total"] == int(frame["lm_worse"].sum()) > 0
    word = frame["reference"].iloc[0].split()[0]
    found = explorer.utterances({"q": word.upper(), "limit": "500"})["rows"]
    assert found and all(word in " ".join([r["id"], r["reference"], r["hypothesis"], r["greedy_hypothesis"]]) for r in found)
    second = explorer.utterances({"sort": "id", "desc": "0", "offset": "50"})
    assert [r["id"] for r in second["rows"]] == [f"utt{k:05d}" for k in range(50, 60)]
    with pytest.raises(ValueError):
        explorer.utterances({"sort": "nonsense"})


def test_frequent_errors_link_to_the_utterances_they_are_in(explorer):
    errors = explorer.errors()
    first = errors["top"][0]
    assert first["utterances"] >= 1 and {e["unit"] for e in errors["top"]} == {"word", "char"}
    pair = {"eunit": first["unit"], "eref": first["reference"], "ehyp": first["hypothesis"]}
    listed = explorer.utterances({**pair, "limit": "500"})
    assert listed["total"] == first["utterances"]
    for row in listed["rows"]:
        tokens = align.aligned(row["reference"], row["hypothesis"], first["unit"])
        pairs = {(t["ref"], t["hyp"]) for t in tokens if t["op"] != "="}
        assert (first["reference"], first["hypothesis"]) in pairs
    matrix = errors["confusions"]
    assert matrix["unit"] == "char" and len(matrix["counts"]) == len(matrix["rows"]) > 0
    unknown = set(WORDS[-10:])
    assert errors["oov"] and {w["word"] for w in errors["oov"]} <= unknown
    assert explorer.utterances({"word": errors["oov"][0]["word"]})["total"] == errors["oov"][0]["utterances"]


def test_one_utterance_has_its_alignments_and_waveform(explorer):
    row = explorer.frame.iloc[7]
    shown = explorer.utterance(row["id"])
    lm, greedy = shown["alignments"]
    assert (lm["name"], greedy["name"]) == ("ngram", "greedy") and lm["errors"] == row["errors"]
    assert " ".join(t["ref"] for t in lm["tokens"] if t["ref"] != NOTHING) == row["reference"]
    assert " ".join(t["hyp"] for t in greedy["tokens"] if t["hyp"] != NOTHING) == row["greedy_hypothesis"]
    oov = {t["ref"] for a in shown["alignments"] for t in a["tokens"] if t["oov"]}
    assert oov == set(row["reference"].split()) & set(WORDS[-10:])
    assert shown["outline"]["seconds"] == pytest.approx(row["seconds"]) and len(shown["outline"]["low"]) == 600
    assert max(shown["outline"]["high"]) > 0 > min(shown["outline"]["low"])
    assert shown["audio"] == f"/audio/{row['id']}.wav" and explorer.utterance("nope") is None


def test_a_phone_run_is_scored_by_per_without_an_lm(phone_explorer):
    summary = phone_explorer.summary()
    assert (summary["rate"], summary["unit"], summary["with_lm"]) == ("per", "phone", False)
    assert "per" in summary["groups"]["speaker"][0] and summary["lm"] == {"order": 0, "sentences": None, "vocabulary": None,
                                                                          "oov_rate": None}
    row = phone_explorer.utterances({"limit": "1"})["rows"][0]
    assert row["rate"] == pytest.approx(row["errors"] / len(row["reference"].split()), abs=1e-4)
    assert "cer" not in row and [a["name"] for a in phone_explorer.utterance(row["id"])["alignments"]] == ["greedy"]
    errors = phone_explorer.errors()
    assert {e["unit"] for e in errors["top"]} == {"phone"} and errors["confusions"]["unit"] == "phone" and errors["oov"] == []


def test_compare_mode_says_which_utterances_got_better_or_worse(project, tmp_path):
    other = tmp_path / "other"
    theirs = write_run(other, 60, seed=1)  # the same clips and references, other hypotheses
    explorer = Explorer(project, results.read(other, "HEAD~1"))
    mine = results.read(project, "workspace").table
    delta = mine["rate"] - (theirs["errors"] / theirs["reference_words"])
    comparison = explorer.summary()["compare"]
    assert (comparison["better"], comparison["worse"], comparison["same"]) == (
        int((delta < 0).sum()), int((delta > 0).sum()), int((delta == 0).sum()))
    assert comparison["better"] and comparison["worse"] and len(comparison["changes"]) == int((delta != 0).sum())
    worse = explorer.utterances({"change": "worse", "sort": "delta", "desc": "1", "limit": "500"})["rows"]
    assert len(worse) == comparison["worse"] and worse[0]["delta"] == pytest.approx(delta.max(), abs=1e-4)
    assert worse[0]["other_hypothesis"] == theirs.set_index("id").loc[worse[0]["id"], "hypothesis"]
    assert [a["name"] for a in explorer.utterance(worse[0]["id"])["alignments"]] == ["ngram", "greedy", "HEAD~1"]


# ---- the server ----

@pytest.fixture(scope="module")
def server(explorer):
    running = Server(explorer, "127.0.0.1", 0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def get(server: Server, path: str, headers: dict | None = None, method: str = "GET") -> http.client.HTTPResponse:
    """The raw request: http.client sends the path as it is (no ../ folded away, as a browser would)."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_the_page_and_its_files_are_served_with_a_strict_policy(server):
    page = get(server, "/")
    assert page.status == 200 and b'src="/static/app.js"' in page.body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        served = get(server, f"/static/{name}")
        assert served.status == 200 and served.headers["Content-Type"].startswith(kind)
    body = b"".join(get(server, f"/static/{name}").body for name in ("index.html", "app.js", "style.css"))
    assert b"http://" not in body.replace(b"http://www.w3.org/2000/svg", b"") and b"https://" not in body  # no CDN


def test_api_routes_answer_json(server, explorer):
    summary = get(server, "/api/summary")
    assert summary.status == 200 and json.loads(summary.body)["utterances"] == 60
    page = json.loads(get(server, "/api/utterances?sort=seconds&desc=1&limit=3").body)
    assert [r["seconds"] for r in page["rows"]] == sorted(explorer.frame["seconds"], reverse=True)[:3]
    assert get(server, "/api/utterances?sort=nonsense").status == 400
    assert get(server, "/api/utterances?offset=x").status == get(server, "/api/utterances?change=maybe").status == 400
    assert json.loads(get(server, "/api/utterance/utt00003").body)["id"] == "utt00003"
    assert get(server, "/api/errors").status == 200


def test_a_clip_is_served_as_wav_by_its_id(server, explorer):
    row = explorer.frame.iloc[3]
    served = get(server, f"/audio/{row['id']}.wav")
    assert served.status == 200 and served.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(served.body)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, RATE)
        assert clip.getnframes() / RATE == pytest.approx(row["seconds"], abs=1e-4)
        samples = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
    assert np.array_equal(samples, explorer.clips.samples(row["id"]))
    part = get(server, f"/audio/{row['id']}.wav", {"Range": "bytes=44-99"})
    assert part.status == 206 and part.body == served.body[44:100]
    assert part.headers["Content-Range"] == f"bytes 44-99/{len(served.body)}"
    assert get(server, f"/audio/{row['id']}.wav", {"Range": "bytes=0-"}).status == 200  # a media element's first request
    assert get(server, f"/audio/{row['id']}.wav", {"Range": f"bytes={len(served.body)}-"}).status == 416


@pytest.mark.parametrize("path", [
    "/audio/../../../../etc/passwd.wav", "/audio/..%2F..%2F..%2F..%2Fetc%2Fpasswd.wav", "/audio//etc/passwd.wav",
    "/audio/%2Fetc%2Fpasswd.wav", "/audio/../data/encoded/store.json.wav", "/audio/train0.wav", "/audio/utt00003",
    "/static/../app.py", "/static/%2E%2E/app.py", "/static/", "/etc/passwd", "/api/utterance/..%2Fmetrics%2Feval.json",
    "/../../metrics/eval.json", "//etc/passwd",
])
def test_paths_never_reach_the_file_system(server, path):
    """A clip is looked up among the test utterances' ids; a training clip is not served either."""
    assert get(server, path).status == 404


def test_only_loopback_hosts_and_reads_are_answered(server):
    assert get(server, "/api/summary", {"Host": "attacker.example:80"}).status == 403  # DNS rebinding
    assert get(server, "/api/summary", {"Host": "localhost"}).status == 200
    assert get(server, "/api/summary", method="POST").status == 501
    assert get(server, "/api/summary", method="PUT").status == 501


def test_a_port_in_use_is_one_line(server, project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    taken = server.server_address[1]
    with pytest.raises(SystemExit) as stopped:
        main(["explore", "--port", str(taken)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"error: 127.0.0.1:{taken}: cannot listen there (Address already in use)\n"


def test_byte_ranges():
    assert byte_range(None, 100) == (0, 99)
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=90-", 100) == (90, 99) and byte_range("bytes=90-500", 100) == (90, 99)
    assert byte_range("bytes=-10", 100) == (90, 99)
    assert byte_range("bytes=100-", 100) is None and byte_range("bytes=-0", 100) is None
    assert byte_range("bytes=1-2,5-6", 100) == byte_range("bytes=5-1", 100) == byte_range("items=1-2", 100) == (0, 99)
