"""Small JSON reports under metrics/, the files `dvc metrics show/diff` read."""

import json
from pathlib import Path


def write_json(path: str | Path, values: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, ensure_ascii=False) + "\n")


def split_counts(frame, column: str = "split") -> dict[str, int]:
    return {str(k): int(v) for k, v in frame[column].value_counts().sort_index().items()}
