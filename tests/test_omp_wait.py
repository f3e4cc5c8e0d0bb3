"""OpenMP's threads spin briefly, then sleep, wherever the pipeline runs (bench/contention.py says why).

libgomp reads its settings once, when torch loads it, so ctc_asr must be imported first: importing the package
must leave libgomp's report of its settings (OMP_DISPLAY_ENV) showing ctc_asr's short spin, and in each stage the imports
that come before its first of ctc_asr, run in a fresh interpreter, must not load libgomp.
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


def loads_libgomp(code: str) -> bool:
    done = subprocess.run([sys.executable, "-c", f"{code}\nprint('libgomp' in open('/proc/self/maps').read())"],
                          cwd=ROOT / "stages", capture_output=True, text=True, check=True)
    return done.stdout.split()[-1] == "True"


def imports_before_the_package(script: Path) -> str:
    """The top-level imports of `script` that precede its first import of ctc_asr (all of them if it has none)."""
    nodes = [node for node in ast.parse(script.read_text()).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [[node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] for node in nodes]
    first = next((k for k, imported in enumerate(names) if any(n.split(".")[0] == "ctc_asr" for n in imported)), len(nodes))
    return "\n".join(ast.unparse(node) for node in nodes[:first])


def test_torch_alone_spins():
    """The checks below can fail: without ctc_asr, libgomp spins; and it is seen loaded."""
    assert spin_count("") == "300000"
    assert loads_libgomp("import torch") and not loads_libgomp("import json")


def test_the_package_and_the_command_line_load_torch_with_a_short_spin():
    from ctc_asr import SPIN_COUNT

    assert int(SPIN_COUNT) < 300000
    assert spin_count("import ctc_asr.core") == SPIN_COUNT
    assert spin_count("import ctc_asr.cli") == SPIN_COUNT


@pytest.mark.parametrize("script", STAGES, ids=[s.stem for s in STAGES])
def test_each_stage_imports_ctc_asr_before_anything_that_loads_libgomp(script):
    assert "ctc_asr" in script.read_text()
    assert not loads_libgomp(imports_before_the_package(script))


def test_a_users_own_setting_is_kept():
    assert spin_count("import ctc_asr", OMP_WAIT_POLICY="PASSIVE") == "0"
    assert spin_count("import ctc_asr", GOMP_SPINCOUNT="1234") == "1234"
