"""Any audio dataset `datasets.load_dataset` can open: a hub id or a local folder.

Audio is taken undecoded (the stored bytes, or the file the dataset points to) so no
torchcodec is needed: the encode stage decodes it with soundfile like every other source.
With `streaming`, each split is iterated as it is read (an IterableDataset) instead of
being downloaded and converted whole first.
"""

import sys
from pathlib import Path

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import HubParams
from ctc_asr.data.corpus import UNKNOWN_SPEAKER


def _load(cfg: HubParams, split: str):
    import datasets  # imported here: slow to import, and only this source needs it

    try:
        dataset = datasets.load_dataset(
            cfg.name, cfg.config, revision=cfg.revision, data_dir=cfg.data_dir, split=split, streaming=cfg.streaming,
        )
    except Exception as error:  # datasets raises many types for a wrong name, split or offline hub
        raise UserError(f"data.hub: cannot load {cfg.name!r} split {split!r} ({str(error).splitlines()[0]})") from None
    for column in (cfg.audio_column, cfg.text_column, cfg.speaker_column, cfg.phones_column):
        if column and column not in dataset.column_names:
            raise UserError(f"data.hub: {cfg.name!r} has no column {column!r} (has: {', '.join(dataset.column_names)})")
    if cfg.limit is not None:
        dataset = dataset.take(cfg.limit)
    return dataset.cast_column(cfg.audio_column, datasets.Audio(decode=False))


def candidates(cfg: HubParams):
    if cfg.revision is None and not Path(cfg.name).is_dir():
        print(f"download: warning: data.hub.revision is not set, so {cfg.name!r} may change under this pipeline "
              "without DVC noticing; set it to a commit of the dataset's repository", file=sys.stderr)
    splits = {"train": cfg.train_split, "dev": cfg.dev_split, "test": cfg.test_split}
    for split, hub_split in splits.items():
        if hub_split is None:  # no dev split: dev speakers are held out of train (see sources/__init__.py)
            continue
        for number, item in enumerate(_load(cfg, hub_split)):
            audio = item[cfg.audio_column]
            name = Path(audio.get("path") or f"{number}.wav")
            speaker = item[cfg.speaker_column] if cfg.speaker_column else None
            candidate = dict(
                id=f"{split}_{number:06d}", split=split, text=str(item[cfg.text_column] or ""),
                speaker=UNKNOWN_SPEAKER if speaker is None else str(speaker),
                dest=f"{split}/{number:06d}{name.suffix.lower() or '.wav'}",
            )
            if cfg.phones_column:
                candidate["phones"] = str(item[cfg.phones_column] or "")
            if audio.get("bytes"):
                candidate["data"] = audio["bytes"]
            else:
                candidate["source"] = name
            yield candidate
