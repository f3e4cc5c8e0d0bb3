"""Step-wise training history as TSV files that `dvc plots` reads; flushed as it grows."""

import csv
from pathlib import Path

from ctc_asr.core.outputs import clear


class History:
    """One TSV per kind of record (steps, eval), each with a fixed header.

    The files start anew (never written in place). `records` holds what was logged, for a
    checkpoint to keep: a run resuming from it `restore`s them first.
    """

    def __init__(self, folder: Path, **columns: list[str]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files, self._writers = {}, {}
        self.records: dict[str, list[dict]] = {name: [] for name in columns}
        for name, header in columns.items():
            path = self.folder / f"{name}.tsv"
            clear(path)
            self._files[name] = open(path, "x", newline="")
            self._writers[name] = csv.DictWriter(self._files[name], fieldnames=header, delimiter="\t")
            self._writers[name].writeheader()
            self._files[name].flush()

    def restore(self, records: dict[str, list[dict]]) -> None:
        """Put back the records of a checkpoint (the files must hold no new ones yet)."""
        for name, rows in records.items():
            for row in rows:
                self.log(name, **row)

    def log(self, name: str, **values) -> None:
        self.records[name].append(values)
        self._writers[name].writerow(values)
        self._files[name].flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
