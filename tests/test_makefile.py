"""`make setup` reinstalls torch when the requirement changes (TORCH=torch after a CPU install)."""

import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def planned(venv: Path, *settings: str) -> str:
    """What `make setup` would run, without running it."""
    return subprocess.run(["make", "-n", "setup", f"VENV={venv}", *settings], cwd=PROJECT,
                          capture_output=True, text=True, check=True).stdout


def test_a_new_torch_requirement_reinstalls_torch(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    first = planned(venv)
    assert 'pip install --quiet "torch==2.13.0"' in first and "-m venv" not in first  # the venv exists
    for stamp in (".torch-torch__2.13.0", ".installed"):  # as a finished CPU install leaves them
        (venv / stamp).touch()
    assert "pip" not in planned(venv)  # up to date: nothing to do
    again = planned(venv, "TORCH=torch")
    assert "pip uninstall" in again and 'pip install --quiet "torch"' in again and "-e '.[test]'" in again
