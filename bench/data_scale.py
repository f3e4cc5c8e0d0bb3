"""Disk and time of data preparation (download ... filter) at scale, and a LibriSpeech projection.

    python bench/data_scale.py --hours 10 --baseline ac4c2c2

Synthesizes a corpus of about --hours hours and prepares it twice: as the `synthetic` source,
and as a `manifest` corpus of the same files (copied outside the project first, as a user's
recordings would be). Each runs `dvc repro` stage by stage up to filter in a fresh copy of
the project, with 1 and with 2 worker processes (data.workers, encode.workers), and reports:
  - bytes the pipeline added (data/ plus .dvc/cache, each file counted once however many
    links it has; the user's recordings not counted) per hour of audio, and as a multiple of
    16-bit 16 kHz PCM (115.2 MB an hour);
  - seconds per stage and audio hours prepared per minute; download+encode speed-up;
--baseline COMMIT runs the same corpus through that commit's code (one process: it has no
workers) for the before figures. Results go to --out as JSON as well.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from ctc_asr.core import layout

PROJECT = Path(__file__).resolve().parents[1]
# the data preparation: dvc.yaml's stages up to filter, the n-gram LM left out
_ALL_STAGES = list(yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"])
STAGES = [s for s in _ALL_STAGES[:_ALL_STAGES.index("filter") + 1] if s != "lm"]
OUTPUT_FOLDERS = tuple(f"{path.parts[0]}/" for path in (layout.RAW, layout.TRAINED, layout.METRICS))
PCM_BYTES_PER_HOUR = 16000 * 2 * 3600
SECONDS_PER_UTTERANCE = 2.28  # what the synthetic voices average
SPEAKERS = {"train_speakers": 150, "dev_speakers": 4, "test_speakers": 8}


def synthetic_params(hours: float) -> dict:
    per_speaker = math.ceil(hours * 3600 / SECONDS_PER_UTTERANCE / sum(SPEAKERS.values()))
    return {**SPEAKERS, "utterances_per_speaker": per_speaker,
            "test_sentences": max(120, per_speaker), "dev_sentences": max(60, per_speaker)}


def merge(base: dict, update: dict) -> dict:
    """`update` applied to `base`, keys `base` lacks left out (an older commit has fewer params)."""
    return {k: merge(v, update.get(k, {})) if isinstance(v, dict) else update.get(k, v) for k, v in base.items()}


def make_project(folder: Path, commit: str | None) -> Path:
    """A fresh git repository with the project's files: the working tree, or `commit`'s."""
    folder.mkdir(parents=True)
    if commit:
        archive = subprocess.run(["git", "archive", commit], cwd=PROJECT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x"], input=archive, cwd=folder, check=True)
    else:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=PROJECT,
                                capture_output=True, text=True, check=True).stdout.split()
        for name in listed:
            if (PROJECT / name).is_file() and not name.startswith(OUTPUT_FOLDERS) and name != "dvc.lock":
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(PROJECT / name, folder / name)
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"]):
        subprocess.run(command, cwd=folder, check=True, capture_output=True)
    return folder


def set_params(project: Path, update: dict) -> None:
    path = project / "params.yaml"
    path.write_text(yaml.safe_dump(merge(yaml.safe_load(path.read_text()), update), sort_keys=False))


def disk_bytes(*folders: Path) -> int:
    """Bytes allocated to the files under `folders`, each inode once (hard links share one)."""
    seen, total = set(), 0
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in files:
                info = os.lstat(os.path.join(root, name))
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_blocks * 512
    return total


def prepare(project: Path, update: dict) -> dict:
    """Run the stages one by one; seconds per stage, audio hours, bytes added."""
    set_params(project, update)
    env = dict(os.environ, PYTHONPATH=str(project / "src"), DVC_NO_ANALYTICS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    seconds = {}
    for stage in STAGES:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "dvc", "repro", "--single-item", stage], cwd=project, env=env,
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{project}: dvc repro {stage} failed:\n{done.stderr[-2000:]}")
        seconds[stage] = round(time.perf_counter() - started, 1)
    hours = sum(json.loads((project / layout.stage_metrics("download")).read_text())["hours"].values())
    added = disk_bytes(project / "data", project / ".dvc/cache")
    return {"seconds": seconds, "audio_hours": round(hours, 3), "bytes": added,
            "bytes_per_hour": round(added / hours), "times_pcm16": round(added / hours / PCM_BYTES_PER_HOUR, 2),
            "hours_per_minute": round(hours / (sum(seconds.values()) / 60), 2)}


def recordings(synthesized: Path, folder: Path) -> Path:
    """The synthesized clips as a user's recordings: copied out of the project, listed in a CSV."""
    frame = pd.read_csv(synthesized / layout.MANIFEST, sep="\t", keep_default_na=False)
    for path in frame["path"]:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(synthesized / layout.RAW / path, folder / path)
    listed = folder / "corpus.csv"
    frame[["path", "text", "speaker", "split"]].to_csv(listed, index=False)
    return listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=10.0, help="size of the synthesized corpus (default 10)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare")
    parser.add_argument("--baseline", help="a commit whose code gives the before figures")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ctc_asr_data_scale"), help="scratch folder (emptied)")
    parser.add_argument("--out", type=Path, default=Path("bench/data_scale.json"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    corpus = {"data": {"synthetic": synthetic_params(args.hours)}}
    runs, user_files = {}, None
    for name, commit, counts in [("now", None, args.workers), ("before", args.baseline, [1])]:
        if commit is None and name == "before":
            continue
        for workers in counts:
            for source in ("synthetic", "manifest"):
                project = make_project(args.work / f"{name}-{source}-{workers}", commit)
                update = {"data": {**corpus["data"], "workers": workers}, "encode": {"workers": workers}}
                if source == "manifest":
                    user_files = user_files or recordings(args.work / f"now-synthetic-{args.workers[0]}", args.work / "user")
                    update["data"] |= {"source": "manifest", "manifest": {"path": str(user_files)}}
                runs[f"{name} {source} {workers}w"] = result = prepare(project, update)
                print(f"{name:6} {source:9} {workers} worker(s): {result}", flush=True)
                for bulky in (".dvc/cache", layout.ENCODED):  # keep the scratch disk small
                    shutil.rmtree(project / bulky, ignore_errors=True)
    report(runs, args)


def report(runs: dict, args: argparse.Namespace) -> None:
    print(f"\n{'run':24} {'hours':>6} {'B/hour':>13} {'x PCM16':>8} " + " ".join(f"{s:>9}" for s in STAGES)
          + f" {'h/min':>6}")
    for name, r in runs.items():
        print(f"{name:24} {r['audio_hours']:6.2f} {r['bytes_per_hour']:13,} {r['times_pcm16']:8.2f} "
              + " ".join(f"{r['seconds'][s]:9.1f}" for s in STAGES) + f" {r['hours_per_minute']:6.2f}")
    speedups = {}
    for source in ("synthetic", "manifest"):
        one, many = runs.get(f"now {source} 1w"), runs.get(f"now {source} {max(args.workers)}w")
        if one and many and many is not one:
            part = lambda r: r["seconds"]["download"] + r["seconds"]["encode"]  # noqa: E731
            speedups[source] = round(part(one) / part(many), 2)
            print(f"{source}: download+encode {part(one):.1f} s with 1 worker, {part(many):.1f} s with "
                  f"{max(args.workers)}: {speedups[source]}x")
    one = runs.get("now manifest 1w")
    if one:
        part_hours = (one["seconds"]["download"] + one["seconds"]["encode"]) / 3600 / one["audio_hours"]
        efficiency = speedups.get("manifest", max(args.workers)) / max(args.workers)
        spans = ", ".join(f"{960 * part_hours / (1 if n == 1 else n * efficiency):.1f} h on {n} core{'s' * (n > 1)}"
                          for n in (1, 8, 32))
        print(f"LibriSpeech 960 h, PROJECTED from the manifest runs above (not measured): "
              f"{960 * runs[f'now manifest {max(args.workers)}w']['bytes_per_hour'] / 1e9:.0f} GB added on disk; "
              f"download+encode {spans} (if the per-core efficiency measured on {max(args.workers)} cores, "
              f"{efficiency:.2f}, holds; FLAC like LibriSpeech's)")
    args.out.write_text(json.dumps({"command": " ".join(sys.argv), "runs": runs, "speedups": speedups}, indent=2) + "\n")
    print(f"\n{args.out}; reproduce with: python {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()
