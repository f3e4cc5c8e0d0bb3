"""Expected failures: bad input or params, reported as one line instead of a traceback."""

import contextlib
import errno
import functools
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

NO_SPACE = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "no space left on device (disk quota exceeded)"}
# A write that failed for want of space can leave up to a writer's buffer unused: "full" is below this.
NEARLY_FULL = 16 * 2**20


class UserError(Exception):
    """An input, file or param the user can fix; the message names it and says why."""


def exit_on_user_error(main):
    """Run `main`; print a UserError, or a full disk (OSError ENOSPC or EDQUOT), as one line on stderr and exit 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as error:
            _exit(error)
        except OSError as error:
            if error.errno not in NO_SPACE:
                raise
            # No free bytes quoted: by now the partial output is removed (outputs.replacing) and the space is back.
            # filename2 is the destination where there are two (shutil.copyfile names its source first).
            target = error.filename2 or error.filename
            _exit(f"{target}: {NO_SPACE[error.errno]}" if target else NO_SPACE[error.errno])

    return wrapper


def _exit(message) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failure to write `path` for want of disk space into the one-line UserError
    "PATH: no space left on device (N bytes free)"; any other failure propagates unchanged.

    Some writers hide the full disk behind another error (libsndfile: "problem with
    initialization of the flac decoder"; torch.save: "[enforce fail at inline_container.cc]"),
    so whatever the exception, the free space of `path`'s file system decides. Wrap the write
    itself, inside any `outputs.replacing` block, since that removes the partial output on an
    error and so gives the space back before an outer check could see the disk full:

        with replacing(path) as temporary, writing(temporary):
            torch.save(state, temporary)
    """
    try:
        yield
    except UserError:
        raise
    except Exception as error:
        code = error.errno if isinstance(error, OSError) else None
        if code == errno.EDQUOT:
            raise UserError(f"{path}: {NO_SPACE[code]}") from error
        free = free_bytes(path)
        if code == errno.ENOSPC or (free is not None and free < NEARLY_FULL):
            raise UserError(f"{path}: {NO_SPACE[errno.ENOSPC]}" + ("" if free is None else f" ({free} bytes free)")) from error
        raise


def free_bytes(path: str | Path) -> int | None:
    """Free bytes on the file system of `path` (of its nearest existing folder: the file may not exist yet)."""
    where = Path(path).absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        return shutil.disk_usage(where).free
    except OSError:
        return None


class BadInput(UserError):
    """One item of the corpus is unusable: `reason` is a short category counted in reports."""

    def __init__(self, item: str, reason: str, detail: str = ""):
        self.item, self.reason, self.detail = str(item), reason, detail
        super().__init__(f"{item}: {reason}" + (f" ({detail})" if detail else ""))


# What a path is when it is not a regular file (stat's tests, in the order tried).
SPECIAL = [(stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "named pipe"),
           (stat.S_ISSOCK, "socket")]


def require_regular_file(path: str | Path) -> None:
    """BadInput saying what `path` is unless it is a regular file (or a link to one): missing, a
    directory, a device (a link to /dev/zero reads forever), ..."""
    path = Path(path)
    if not path.exists():
        detail = f"a link to {path.readlink()}, which does not exist" if path.is_symlink() else ""
        raise BadInput(path, "missing file", detail)
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise BadInput(path, "is a directory")
    kind = next((name for test, name in SPECIAL if test(mode)), "special file")
    raise BadInput(path, "not a regular file", f"{kind} {path.resolve()}" if path.is_symlink() else kind)
