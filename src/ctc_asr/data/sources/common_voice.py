"""One language of Mozilla's Common Voice as shipped: cv-corpus-*/<lang>/{train,dev,test,validated}.tsv, clips/*.mp3.

A TSV row is a clip: `path` (in clips/), `sentence` (its text), `client_id` (its speaker, one
hash per contributor); `gender` and `accents` (`accent` in older releases) become the gender and
accent columns, for WER per group. The release's own train/dev/test split is the default: it
shares no speaker and no sentence between splits. A bigger train TSV (validated.tsv, which holds
dev's and test's clips too) is read without the speakers and sentences of dev and test, so that
neither leaks into training. The clips are MP3 at 48 or 32 kHz: libsndfile decodes MP3 from 1.1
on (audio.py says what to install when it cannot).
"""

import csv
import sys
from pathlib import Path

import pandas as pd

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import CommonVoiceParams
from ctc_asr.data.corpus import UNKNOWN_SPEAKER

# Sentences hold quotes of every kind: read them as they are, not as CSV quoting.
TSV = dict(sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
NEEDED = ("client_id", "path", "sentence")


def find_language(root: Path) -> Path:
    """The folder with clips/ at `root` or up to two levels below it, looked for a level at a time:
    clips/ may hold a million files, and no level below a match is listed."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data.common_voice.root: {root} is not a directory")
    level = [root]
    for depth in range(3):
        if depth:
            level = [child for folder in level for child in sorted(folder.iterdir()) if child.is_dir()]
        found = [folder for folder in level if (folder / "clips").is_dir()]
        if len(found) > 1:
            raise UserError(f"data.common_voice.root: {root} holds {len(found)} languages "
                            f"({', '.join(f.name for f in found)}); point it at one of them")
        if found:
            return found[0]
    raise UserError(f"data.common_voice.root: no language folder (its TSVs and clips/) in {root} or two levels below")


def _table(folder: Path, name: str, split: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        has = ", ".join(sorted(p.name for p in folder.glob("*.tsv"))) or "none"
        raise UserError(f"data.common_voice.{split}_tsv: no {name} in {folder}, so no {split} split; "
                        f"name one of its TSVs (has: {has})")
    try:
        table = pd.read_csv(path, **TSV)
    except ValueError as error:  # pandas' EmptyDataError and ParserError
        raise UserError(f"{path}: cannot be read as a TSV ({str(error).splitlines()[0]})") from None
    missing = [column for column in NEEDED if column not in table.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (has: {', '.join(table.columns)})")
    return table


def candidates(cfg: CommonVoiceParams):
    folder = find_language(Path(cfg.root))
    names = {"train": cfg.train_tsv, "dev": cfg.dev_tsv, "test": cfg.test_tsv}
    tables = {split: _table(folder, name, split) for split, name in names.items() if name is not None}
    held = pd.concat([tables[split] for split in ("dev", "test") if split in tables])
    train = tables["train"]
    leaks = train["client_id"].isin(held["client_id"]) | train["sentence"].isin(held["sentence"])
    if leaks.any():
        print(f"download: {int(leaks.sum())} clips of {cfg.train_tsv} left out of train: "
              "their speaker or sentence is in dev or test", file=sys.stderr)
    tables["train"] = train[~leaks]
    for split, table in tables.items():
        for row in table.to_dict("records"):
            groups = {"gender": row.get("gender"), "accent": row.get("accents", row.get("accent"))}
            yield dict(
                id=Path(row["path"]).stem, split=split, speaker=row["client_id"] or UNKNOWN_SPEAKER,
                text=row["sentence"], **{column: value for column, value in groups.items() if value is not None},
                source=folder / "clips" / row["path"], dest=f"{split}/{Path(row['path']).name}",  # stays in audio/
            )
