"""A stage's outputs: clearing the last run's, and small JSON reports under metrics/ (what `dvc metrics` reads)."""

import json
import shutil
from pathlib import Path


def clear(*paths: str | Path) -> None:
    """Remove earlier outputs, so that every file is written anew, never in place: writing into a
    file changes every hard link to it, and a linking cache (see .dvc/config) holds one."""
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def write_json(path: str | Path, values: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, ensure_ascii=False) + "\n")


def split_counts(frame, column: str = "split") -> dict[str, int]:
    return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}
