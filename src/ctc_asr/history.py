"""Step-wise training history as TSV files that `dvc plots` reads; flushed as it grows."""

import csv
from pathlib import Path


class History:
    """One TSV per kind of record (steps, eval), each with a fixed header.

    The files start empty; the records they held are kept aside, so that a run resuming
    at step N can `rewind(N)` to get back those of steps up to N.
    """

    def __init__(self, folder: Path, **columns: list[str]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files, self._writers, self._earlier = {}, {}, {}
        for name, header in columns.items():
            path = self.folder / f"{name}.tsv"
            self._earlier[name] = _read(path)
            self._files[name] = open(path, "w", newline="")
            self._writers[name] = csv.DictWriter(self._files[name], fieldnames=header, delimiter="\t")
            self._writers[name].writeheader()
            self._files[name].flush()

    def rewind(self, step: int) -> None:
        """Put back the earlier records of steps up to `step` (the files must hold no new ones yet)."""
        for name, rows in self._earlier.items():
            self._writers[name].writerows(row for row in rows if int(row["step"]) <= step)
            self._files[name].flush()

    def log(self, name: str, **values) -> None:
        self._writers[name].writerow(values)
        self._files[name].flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
