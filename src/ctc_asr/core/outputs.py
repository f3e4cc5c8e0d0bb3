"""Writing a stage's outputs: never in place, complete or not at all.

Outputs are hard links into DVC's cache (see .dvc/config): opening one for writing would
change the cache object it shares its data with. So every output, file or folder, is written
under a temporary name beside its place and renamed onto it only when the writing ended
without an error; an error (or a kill) leaves no output that looks complete. A process that
outlives its DVC run (an orphan) can at worst rename its own result into the workspace, where
`dvc status` sees it: it can never write into a cache object.
"""

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL = ".partial"


def temporary_name(path: Path) -> Path:
    """A hidden sibling of `path` that names this process, so that leftovers of dead ones can be told apart."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL}")


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write a file or a folder at; renamed onto `path` when the
    block ends without an error, removed when it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    try:
        yield temporary
    except BaseException:
        _remove(temporary)
        raise
    if temporary.exists():
        _put(temporary, path)


def _put(temporary: Path, path: Path) -> None:
    if temporary.is_file() and not (path.is_dir() and not path.is_symlink()):
        os.replace(temporary, path)  # atomic: readers see the old file or the new one
        return
    # A folder cannot be renamed onto an existing one: move the old one aside first.
    old = temporary_name(path) if path.exists() or path.is_symlink() else None
    if old:
        os.rename(path, old)
    os.rename(temporary, path)
    if old:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: str | Path, values: dict) -> None:
    write_text(path, json.dumps(values, indent=2, ensure_ascii=False) + "\n")


def clear(*paths: str | Path) -> None:
    """Remove earlier outputs (unlinking a hard link leaves the cache's copy as it is), and what
    runs that died while writing them left beside them."""
    for path in map(Path, paths):
        _remove(path)
        clear_leftovers(path)


def clear_leftovers(path: str | Path) -> None:
    """Remove what runs that died while writing `path` left beside it."""
    path = Path(path)
    for leftover in path.parent.glob(f".{path.name}.*{PARTIAL}") if path.parent.is_dir() else ():
        if not alive(_writer(leftover)):
            _remove(leftover)


def _writer(leftover: Path) -> int:
    """The process id in a temporary name (see `temporary_name`)."""
    try:
        return int(leftover.name.removesuffix(PARTIAL).rsplit(".", 1)[-1].split("-")[0])
    except ValueError:
        return 0


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
