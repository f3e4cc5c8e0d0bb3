"""Step-wise training history as TSV files that `dvc plots` reads; flushed as it grows."""

import csv
from pathlib import Path


class History:
    """One TSV per kind of record (steps, eval), each with a fixed header."""

    def __init__(self, folder: Path, **columns: list[str]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files = {}
        self._writers = {}
        for name, header in columns.items():
            handle = open(self.folder / f"{name}.tsv", "w", newline="")
            self._files[name] = handle
            self._writers[name] = csv.DictWriter(handle, fieldnames=header, delimiter="\t")
            self._writers[name].writeheader()

    def log(self, name: str, **values) -> None:
        self._writers[name].writerow(values)
        self._files[name].flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
