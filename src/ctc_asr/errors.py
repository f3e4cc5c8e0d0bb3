"""Expected failures: bad input or params, reported as one line instead of a traceback."""

import functools
import sys


class UserError(Exception):
    """An input, file or param the user can fix; the message names it and says why."""


def exit_on_user_error(main):
    """Run `main`; print a UserError as one line on stderr and exit 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)

    return wrapper


class BadInput(UserError):
    """One item of the corpus is unusable: `reason` is a short category counted in reports."""

    def __init__(self, item: str, reason: str, detail: str = ""):
        self.item, self.reason, self.detail = str(item), reason, detail
        super().__init__(f"{item}: {reason}" + (f" ({detail})" if detail else ""))
