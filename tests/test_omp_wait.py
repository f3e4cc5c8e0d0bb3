"""OpenMP's threads sleep instead of spinning wherever the pipeline runs (bench/contention.py says why).

libgomp reads its settings once, when torch loads it, so ctc_asr must be imported first: each stage's
own imports are run in a fresh interpreter, and libgomp's report of its settings (OMP_DISPLAY_ENV)
must show no spinning.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = sorted((ROOT / "stages").glob("*.py"))


def spin_count(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport torch\ntorch.ones(2) @ torch.ones(2)"],
                          env=clean | env | {"OMP_DISPLAY_ENV": "VERBOSE"}, cwd=ROOT / "stages",
                          capture_output=True, text=True, check=True)
    line = next(line for line in done.stderr.splitlines() if "GOMP_SPINCOUNT" in line)
    return line.split("=")[1].strip().strip("'")


def top_imports(script: Path) -> str:
    tree = ast.parse(script.read_text())
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))


def test_torch_alone_spins():
    """The check below can fail: without ctc_asr, libgomp spins."""
    assert spin_count("") == "300000"


@pytest.mark.parametrize("script", STAGES, ids=[s.stem for s in STAGES])
def test_each_stage_loads_torch_with_sleeping_threads(script):
    assert spin_count(top_imports(script)) == "0"


def test_the_command_line_too():
    assert spin_count("import ctc_asr.cli") == "0"


def test_a_users_own_setting_is_kept():
    assert spin_count("import ctc_asr", OMP_WAIT_POLICY="ACTIVE") != "0"
    assert spin_count("import ctc_asr", GOMP_SPINCOUNT="1234") == "1234"
