"""End to end, what a user reads after a run, each as the docs say to read it, on the session's tiny run:
the plots page drawn in headless Chromium with no network (`make plots`), `dvc exp show` in 120 columns
(the command of docs/experiments.md), the model from the registry once a version is tagged (the commands
of docs/sharing.md), and the model card's usage snippet, run as written.
"""

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from e2e import PROJECT, commit, run, tiny_copy

from ctc_asr.evaluation import card

pytestmark = pytest.mark.e2e

HEADLINE_METRICS = {"metrics/eval.json", "metrics/train.json", "metrics/tune.json"}
COUNTS = ["download", "normalize", "vocab", "lm", "encode", "filter"]  # metrics/<stage>.json: outputs, not metrics


def dvc(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(repo, sys.executable, "-m", "dvc", *args, check=check)


@pytest.fixture(scope="module")
def repo(tiny_run, tmp_path_factory) -> Path:
    """The session's tiny run, its results committed."""
    repo = tiny_copy(tiny_run[0], tmp_path_factory.mktemp("results"))
    commit(repo, "results")
    return repo


def documented(doc: str, start: str) -> list[str]:
    """The command of `doc` (a file of docs/) that starts with `start`, backslash-continued lines joined,
    its comment left out, as a list of arguments."""
    text = (PROJECT / "docs" / doc).read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith(start)]
    return shlex.split(line, comments=True)


# ---- metrics ----------------------------------------------------------------------------------------------------

def flat(tree: dict, prefix: str = "") -> list[str]:
    return [name for key, value in tree.items()
            for name in (flat(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"])]


def test_the_metrics_are_the_headline_figures_and_the_counts_are_outputs(repo):
    shown = json.loads(dvc(repo, "metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]
    assert set(files) == HEADLINE_METRICS
    names = [name for data in files.values() for name in flat(data["data"])]
    assert "wer" in names and [n for n in names if " " in n] == []
    for stage in COUNTS:  # written, cached by DVC, not tracked by git
        path = f"metrics/{stage}.json"
        assert json.loads((repo / path).read_text()), path
        assert run(repo, "git", "ls-files", path).stdout == "" and path not in files
    assert set(json.loads((repo / "metrics/filter.json").read_text())["dropped"]) == {"too_short", "too_long", "infeasible"}


# ---- the plots page ---------------------------------------------------------------------------------------------

def plot_titles() -> set[str]:
    """The title of every plot dvc.yaml declares: the plots section's, and the train stage's plot outputs'."""
    spec = yaml.safe_load((PROJECT / "dvc.yaml").read_text())
    titles = {next(iter(plot)) for plot in spec["plots"]}
    outputs = [next(iter(o.values())) for s in spec["stages"].values() for o in s.get("plots", []) if isinstance(o, dict)]
    return titles | {o["title"] for o in outputs}


DRAWN = """return Array.from(document.querySelectorAll('body > div[id]')).map(div => [
    div.id, div.querySelectorAll('svg, canvas').length,
    Array.from(div.querySelectorAll('.role-title-text')).map(t => t.textContent)])"""


def drawn(page: Path, wait: float) -> list[list]:
    """[div id, SVGs and canvases in it, the titles drawn (the plot's, a facet's)] per plot of `page`, opened in
    headless Chromium with the network off, after waiting up to `wait` seconds for every plot to draw."""
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.skip("needs chromium and chromedriver (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,2400"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    try:
        chrome.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
        chrome.get(page.as_uri())
        with contextlib.suppress(TimeoutException):  # some never draw: counted below
            WebDriverWait(chrome, wait, poll_frequency=0.5).until(
                lambda c: (found := c.execute_script(DRAWN)) and all(n for _, n, _ in found))
        return chrome.execute_script(DRAWN)
    finally:
        chrome.quit()


def test_make_plots_writes_a_page_that_draws_every_plot_with_no_network(repo):
    run(repo, "make", "-o", "setup", "plots")  # setup: the venv this test runs in
    page = repo / "dvc_plots/index.html"
    html = page.read_text()
    assert "cdn.jsdelivr.net" not in html and not re.search(r"<script[^>]+src=", html)
    plots = drawn(page, wait=60)
    expected = plot_titles()
    assert sorted(t for _, _, titles in plots for t in titles if t in expected) == sorted(expected)  # one each
    assert [(div, n) for div, n, _ in plots if n == 0] == []  # an SVG (or canvas) in every one
    # DVC's own page, which loads Vega from a CDN, draws nothing offline: what the test tells apart
    dvc(repo, "plots", "show", "-o", "cdn_plots")
    assert "cdn.jsdelivr.net" in (repo / "cdn_plots/index.html").read_text()
    assert [n for _, n, _ in drawn(repo / "cdn_plots/index.html", wait=3)] == [0] * len(plots)


# ---- dvc exp show -----------------------------------------------------------------------------------------------

def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_exp_show_as_documented_fits_120_columns_with_the_changed_params_and_the_rates(repo):
    # two params that leave the trained model as it is (lm, tune and evaluate rerun)
    dvc(repo, "exp", "run", "--temp", "-n", "variant", "-S", "ngram.order=3", "-S", "decode.beam_width=8")
    command = documented("experiments.md", "dvc exp show --only-changed --no-pager --drop")
    assert command[:3] == ["dvc", "exp", "show"] and "--drop" in command
    # the pattern keeps the params by the sections of params.yaml: every one of them
    pattern = command[command.index("--drop") + 1]
    sections = yaml.safe_load((PROJECT / "params.yaml").read_text())
    kept = re.search(r"\|\(([\w|]+)\)\\\.", pattern).group(1).split("|")
    assert sorted(kept) == sorted(k for k, v in sections.items() if isinstance(v, dict)), pattern
    assert all(f"|{k}|" in pattern or f"|{k})" in pattern for k, v in sections.items() if not isinstance(v, dict))
    table = run(repo, "env", "COLUMNS=120", sys.executable, "-m", *command).stdout  # a 120-column terminal
    lines = [line.rstrip() for line in table.splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 120 and "…" not in table, table
    assert cells(lines[1]) == ["Experiment", "Created", "wer", "cer", "decode.beam_width", "ngram.order"], table
    [row] = [cells(line) for line in lines if "[variant]" in line]
    shown = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    [variant] = [e for c in shown for e in c.get("experiments") or [] if e.get("name") == "variant"]
    evaluation = variant["revs"][0]["data"]["metrics"]["metrics/eval.json"]["data"]
    assert [float(v) for v in row[-4:-2]] == pytest.approx([evaluation["wer"], evaluation["cer"]], abs=1e-4)
    assert row[-2:] == ["8", "3"]


# ---- the registry -----------------------------------------------------------------------------------------------

def test_the_registry_gives_the_model_once_a_version_is_tagged_as_documented(repo, tmp_path):
    tag = documented("sharing.md", "git tag -a ctc-asr@")
    get = documented("sharing.md", "dvc artifacts get . ctc-asr")
    out = get[get.index("-o") + 1]
    untagged = dvc(repo, *get[1:-1], str(tmp_path / "untagged"), check=False)
    assert untagged.returncode != 0 and "Unable to find artifact 'ctc-asr'" in untagged.stderr
    run(repo, "git", "tag", tag[3])  # a plain tag of the same name: not seen
    assert dvc(repo, *get[1:-1], str(tmp_path / "plain"), check=False).returncode != 0
    run(repo, "git", "tag", "-d", tag[3])
    run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@t", *tag[1:])  # an annotated tag has a tagger
    got = tmp_path / out
    dvc(repo, *get[1:-1], str(got))
    files = sorted(p.relative_to(repo / "models/asr") for p in (repo / "models/asr").rglob("*") if p.is_file())
    assert files and sorted(p.relative_to(got) for p in got.rglob("*") if p.is_file()) == files
    assert all((got / f).read_bytes() == (repo / "models/asr" / f).read_bytes() for f in files)


# ---- the model card ---------------------------------------------------------------------------------------------

def test_the_model_cards_usage_snippet_runs_as_written_on_a_test_clip(repo, tmp_path):
    text = (repo / "models/asr/README.md").read_text()
    snippet = card.usage_snippet(text)
    assert snippet.count(card.HUB_ID) == 1 and snippet.count('"speech.wav"') == 1
    raw = pd.read_csv(repo / "data/raw/manifest.tsv", sep="\t")
    clip = repo / "data/raw" / raw.loc[raw["split"] == "test", "path"].iloc[0]  # eSpeak's rate, not the model's
    script = tmp_path / "snippet.py"
    script.write_text(snippet.replace(card.HUB_ID, str(repo / "models/asr")).replace('"speech.wav"', repr(str(clip))))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = done.stdout.splitlines()  # the text, and nothing else
    vocab = json.loads((repo / "models/asr/vocab.json").read_text())
    assert set(line) <= set("".join(vocab)) | {" "}, line
