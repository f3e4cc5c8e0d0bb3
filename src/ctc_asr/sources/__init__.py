"""Sources: each turns one kind of corpus into audio files plus the one manifest shape.

A source is a function `download(cfg, out_dir) -> DataFrame` that writes audio under
`out_dir` and returns the manifest rows (paths relative to `out_dir`); `data.source`
picks it and `data.<source>` is its cfg.
"""

from pathlib import Path

import pandas as pd

from .. import manifest
from ..params import DataParams
from . import synthetic

SOURCES = {"synthetic": synthetic.download}


def download(params: DataParams, out_dir: Path) -> pd.DataFrame:
    """Materialise the configured source into `out_dir`: audio files and manifest.tsv."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = SOURCES[params.source](getattr(params, params.source), out_dir)
    manifest.write(frame, out_dir / "manifest.tsv")
    return frame
