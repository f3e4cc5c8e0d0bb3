"""End to end: `python -m ctc_asr explore` over a real tiny run, in headless Chromium driven by selenium.

The session's tiny run (`dvc repro` of the tiny config), then a DVC experiment that decodes greedily
(`ngram.order=0`: lm, tune and evaluate rerun, train does not) to compare with. The page must show eval.json's
WER, sort, filter, play a clip the browser fetched as WAV, align its hypotheses, and list what changed against
the experiment. Then the page-ready time and the server's memory, for the demo's test set and for 5,000
fabricated clips.
"""

import contextlib
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import urllib.request
import wave
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from e2e import commit, run, tiny_copy
from test_explorer import write_run

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NOTHING = "∅"
GOALS_MS = {"demo": 1000, "5000": 3000}  # page ready, from the issue: on this project's 2-core machine


@pytest.fixture(scope="module")
def repo(tiny_run, tmp_path_factory) -> Path:
    repo = tiny_copy(tiny_run[0], tmp_path_factory.mktemp("explore"))
    commit(repo, "results")
    run(repo, sys.executable, "-m", "dvc", "exp", "run", "--temp", "-n", "no-lm", "-S", "ngram.order=0")
    return repo


@contextlib.contextmanager
def serving(folder: Path, *args: str, log: Path):
    """`python -m ctc_asr explore` run in `folder`: yields its URL (from the one line it prints) and process."""
    source = folder / "src" if (folder / "src/ctc_asr").is_dir() else PROJECT / "src"
    env = dict(os.environ, PYTHONPATH=str(source), DVC_NO_ANALYTICS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with open(log, "w") as errors:
        process = subprocess.Popen([sys.executable, "-m", "ctc_asr", "explore", "--port", "0", *args], cwd=folder, env=env,
                                   stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)  # a server that never starts fails, not hangs
        line = process.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not found:
            pytest.fail(f"explore printed {line!r}: {log.read_text()[-2000:]}")
        yield found.group(0), process
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def served(repo, tmp_path_factory):
    with serving(repo, "--compare", "no-lm", log=tmp_path_factory.mktemp("log") / "explore.err") as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Chromium and chromedriver (Debian: chromium, chromium-driver; .ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))  # no driver download: the one installed
    yield driver
    driver.quit()


def until(driver, script: str, timeout: float = 30):
    """The value of `script` once it is truthy."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(script))


def show(driver, url: str, fragment: str) -> None:
    """Open the page at `fragment` and wait for the table to show it."""
    driver.get(url + fragment)
    until(driver, f"return document.body.dataset.shown === {json.dumps(fragment)}")


def column(driver, name: str) -> list[str]:
    return driver.execute_script(f"return [...document.querySelectorAll('#table tbody td[data-col={name}]')]"
                                 ".map((td) => td.dataset.value)")


def predictions(repo: Path) -> pd.DataFrame:
    table = pd.read_csv(repo / "metrics/predictions.tsv", sep="\t", keep_default_na=False, dtype=str)
    return table.astype({"seconds": float, "errors": int, "reference_words": int})


def test_the_summary_shows_the_error_rates_of_eval_json(repo, served, browser):
    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    browser.get(served + "#/summary")
    shown = until(browser, "return document.getElementById('headline-rate')?.textContent")
    assert float(shown) == evaluation["wer"]
    for decoding in ("greedy", "ngram"):
        cell = browser.execute_script(f"return document.querySelector('tr[data-decoding={decoding}] td[data-rate=wer]')"
                                      ".textContent")
        assert float(cell) == evaluation[decoding]["wer"]
    oov = json.loads((repo / "metrics/lm.json").read_text())["oov_rate"]["test"]
    assert browser.execute_script("return document.getElementById('oov-test').textContent") == f"{100 * oov:.1f}%"
    bars = browser.execute_script("return document.querySelectorAll('svg.bars .bar').length")
    groups = [pd.read_csv(p, sep="\t") for p in (repo / "metrics/eval").glob("by_*.tsv")]
    assert bars == sum(len(g) for g in groups) > 0


def test_sorting_by_wer_puts_the_worst_clip_first(repo, served, browser):
    table = predictions(repo)
    show(browser, served, "#/utterances?sort=id&desc=0")
    assert column(browser, "id") == sorted(table["id"])
    browser.find_element("css selector", "th[data-col=rate]").click()
    until(browser, "return document.body.dataset.shown.includes('sort=rate')")
    rates = [float(r) for r in column(browser, "rate")]
    worst = (table["errors"] / table["reference_words"]).max()
    assert rates[0] == pytest.approx(worst, abs=1e-4) and rates == sorted(rates, reverse=True) and len(rates) == len(table)


def test_filtering_by_a_speaker_leaves_only_that_speaker_s_rows(repo, served, browser):
    from selenium.webdriver.support.ui import Select

    table = predictions(repo)
    speaker = table["speaker"].iloc[-1]
    show(browser, served, "#/utterances")
    Select(browser.find_element("id", "filter-speaker")).select_by_value(speaker)
    until(browser, "return document.body.dataset.shown.includes('speaker=')")
    speakers = column(browser, "speaker")
    assert speakers == [speaker] * int((table["speaker"] == speaker).sum()) and len(speakers) < len(table)


def test_opening_a_clip_fetches_its_wav_and_shows_it_aligned(repo, served, browser):
    table = predictions(repo).set_index("id")
    show(browser, served, "#/utterances")
    browser.get_log("performance")  # only what follows
    utterance = browser.execute_script("return document.querySelector('#table tbody tr').dataset.id")
    browser.find_element("css selector", "#table tbody tr").click()
    until(browser, f"return document.body.dataset.utterance === {json.dumps(utterance)}")
    duration = until(browser, "const a = document.getElementById('player'); return a.readyState >= 1 && a.duration")
    assert duration == pytest.approx(table.loc[utterance, "seconds"], abs=1e-3)
    address = f"{served}audio/{quote(utterance, safe='')}.wav"
    events = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    responses = [e["params"]["response"] for e in events
                 if e["method"] == "Network.responseReceived" and e["params"]["response"]["url"] == address]
    assert responses and (responses[0]["status"], responses[0]["mimeType"]) == (200, "audio/wav")
    assert {r["status"] for r in responses} <= {200, 206}  # later requests, if any: ranges of it
    with urllib.request.urlopen(address) as fetched:
        assert fetched.status == 200 and fetched.headers["Content-Type"] == "audio/wav"
        with wave.open(io.BytesIO(fetched.read())) as clip:
            assert clip.getnframes() / clip.getframerate() == pytest.approx(table.loc[utterance, "seconds"], abs=1e-4)
    aligned = browser.execute_script("""return [...document.querySelectorAll('.alignment')].map((a) => ({name: a.dataset.name,
        ops: [...a.querySelectorAll('.tok')].map((t) => t.dataset.op),
        ref: [...a.querySelectorAll('.tok .ref')].map((t) => t.textContent),
        hyp: [...a.querySelectorAll('.tok .hyp')].map((t) => t.textContent)}))""")
    assert [a["name"] for a in aligned] == ["ngram", "greedy", "no-lm"]  # the LM's, greedy beside it, the experiment's
    for shown, hypothesis in zip(aligned, ("hypothesis", "greedy_hypothesis")):
        assert " ".join(t for t in shown["ref"] if t != NOTHING) == table.loc[utterance, "reference"]
        assert " ".join(t for t in shown["hyp"] if t != NOTHING) == table.loc[utterance, hypothesis]
    assert sum(op != "=" for op in aligned[0]["ops"]) == table.loc[utterance, "errors"]


def test_compare_mode_lists_the_utterances_that_changed(repo, served, browser):
    table = predictions(repo).set_index("id")
    show(browser, served, "#/compare")
    changes = [float(d) for d in column(browser, "delta")]
    assert len(changes) >= 1 and all(change != 0 for change in changes)
    # the experiment decodes greedily with the same model: its hypotheses are the workspace's greedy ones
    for utterance, theirs in zip(column(browser, "id"), column(browser, "other_hypothesis")):
        assert theirs == table.loc[utterance, "greedy_hypothesis"]
    better = browser.execute_script("return document.getElementById('better').textContent")
    assert better == f"{sum(change < 0 for change in changes)} better"


def test_an_unknown_revision_is_one_line(repo):
    done = run(repo, sys.executable, "-m", "ctc_asr", "explore", "--compare", "no-such-experiment", check=False)
    assert done.returncode == 2
    assert done.stderr == "error: no-such-experiment: not a git revision or DVC experiment here (`dvc exp show` lists them)\n"


def test_a_phone_run_is_shown_with_its_per(browser, tmp_path):
    """No LM, no characters: the page's other branch, on a fabricated phone run."""
    write_run(tmp_path / "phones", 30, phones=True)
    evaluation = json.loads((tmp_path / "phones/metrics/eval.json").read_text())
    with serving(tmp_path / "phones", log=tmp_path / "explore.err") as (url, _):
        browser.get(url + "#/summary")
        assert float(until(browser, "return document.getElementById('headline-rate')?.textContent")) == evaluation["per"]
        show(browser, url, "#/utterances")
        headers = browser.execute_script("return [...document.querySelectorAll('#table th')].map((th) => th.dataset.col)")
        assert "rate" in headers and "greedy_rate" not in headers and not browser.find_elements("id", "lm-worse")
        assert browser.execute_script("return document.querySelector('th[data-col=rate]').textContent").startswith("PER")
        browser.find_element("css selector", "#table tbody tr").click()
        until(browser, "return document.body.dataset.utterance")
        names = browser.execute_script("return [...document.querySelectorAll('.alignment')].map((a) => a.dataset.name)")
        assert names == ["greedy"]
        browser.get(url + "#/errors")
        assert until(browser, "return document.querySelector('svg.matrix') && document.querySelectorAll('#top-errors tr').length")
    assert [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def memory_mb(pid: int) -> dict[str, float]:
    """Resident and peak resident memory of a process (Linux's /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+) kB", status).group(1)) / 1024 for key in ("VmRSS", "VmHWM")}


@pytest.mark.parametrize("case", list(GOALS_MS))
def test_page_ready_time_and_server_memory(case, browser, tmp_path):
    """The demo's run when this workspace has its outputs (`make repro`), else 200 fabricated clips; and 5,000.
    Prints the figures docs/results.md quotes."""
    folder, size = PROJECT, None
    if case == "5000" or not (PROJECT / "metrics/predictions.tsv").is_file() or not (PROJECT / "data/encoded").is_dir():
        folder, size = tmp_path / "run", 5000 if case == "5000" else 200
        write_run(folder, size)
    rows = len(pd.read_csv(folder / "metrics/predictions.tsv", sep="\t", usecols=["id"]))
    with serving(folder, log=tmp_path / "explore.err") as (url, process):
        browser.get("about:blank")
        started = time.perf_counter()
        browser.get(url + "#/utterances")
        ready_ms = int(until(browser, "return document.body.dataset.readyMs"))
        wall_ms = (time.perf_counter() - started) * 1000
        filled = int(browser.execute_script("return document.body.dataset.rows"))
        loaded = memory_mb(process.pid)
        browser.get(url + "#/errors")  # the error pairs of every clip, worked out at the first request
        until(browser, "return document.getElementById('top-errors')")
        peak = memory_mb(process.pid)["VmHWM"]
    label = "demo run" if size is None else f"{size} fabricated clips"
    print(f"\nexplore, {label} ({rows} test clips): page ready {ready_ms} ms in the browser ({wall_ms:.0f} ms "
          f"through WebDriver); server {loaded['VmRSS']:.0f} MB resident after the page, peak {peak:.0f} MB after "
          f"the errors view")
    assert filled == min(rows, 50)
    assert ready_ms < GOALS_MS[case]
