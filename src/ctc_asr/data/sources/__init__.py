"""Sources: each turns one kind of corpus into audio files plus the one manifest shape.

`synthetic` writes its own audio. The others list candidates (see collect.py), which are
checked under the `data.on_error` policy and read where they are (or copied into
`out_dir/audio`: `data.copy_audio`); a source without a dev split of its own gives
`data.dev_speakers` training speakers to dev, and a split left without clips stops download
with one line saying why. `data.source` picks the source and
`data.<source>` is its cfg. Both kinds run on `data.workers` processes.
"""

from collections import Counter
from pathlib import Path

import pandas as pd

from ctc_asr.core.errors import UserError
from ctc_asr.core.parallel import worker_count
from ctc_asr.core.params import DataParams
from ctc_asr.data import corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.sources import common_voice, hub, kaldi, librispeech, manifest, synthetic, timit
from ctc_asr.data.sources.collect import collect, tallied

LISTED = {"timit": timit.candidates, "hub": hub.candidates, "manifest": manifest.candidates,
          "librispeech": librispeech.candidates, "common_voice": common_voice.candidates, "kaldi": kaldi.candidates}


def download(params: DataParams, out_dir: Path, rejects: Rejects) -> pd.DataFrame:
    """Materialise the configured source into `out_dir`: audio files and manifest.tsv."""
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = worker_count(params.workers)
    if params.source == "synthetic":
        frame = synthetic.download(params.synthetic, out_dir, workers)
    else:
        per_split = Counter()
        listed = tallied(LISTED[params.source](getattr(params, params.source)), per_split)
        frame = collect(listed, out_dir, rejects, params.reject_over_seconds, params.copy_audio, workers)
        if frame.empty:  # said here: holding dev speakers out of none would be the complaint otherwise
            counts = ", ".join(f"{n} {reason}" for reason, n in rejects.counts().items())
            raise UserError(f"data.source {params.source}: no usable clips" + (f" (all rejected: {counts})" if counts else ""))
        corpus.require_splits(frame, per_split, params.source)
        frame = corpus.hold_out_dev(frame, params.dev_speakers, params.source)
    corpus.write(frame, out_dir / "manifest.tsv")
    return frame
