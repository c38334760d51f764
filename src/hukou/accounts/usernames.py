"""User names: one normal form, so that ``Wang.Li`` and ``ｗａｎｇ.ｌｉ`` are one account.

Names are NFKC-normalised (full-width letters typed with a Chinese input method
become ASCII) and case-folded before they are stored, compared or counted, so the
unique constraint, the lockout counter and the rate limiter all see one key per
person, however it was typed.

>>> normalise_username("  Wang.Li ")
'wang.li'
>>> normalise_username("ｗａｎｇ．ｌｉ")
'wang.li'
>>> normalise_username("a b")
Traceback (most recent call last):
...
hukou.accounts.errors.InvalidUsernameError: A user name has 3 to 64 characters: letters, \
digits, '.', '_', '-' or '@', starting with a letter or digit.
"""

from __future__ import annotations

import re
import unicodedata

from hukou.accounts.errors import InvalidUsernameError

__all__ = ["fold_username", "normalise_username"]

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")


def fold_username(raw: str) -> str:
    """The normal form of ``raw`` (NFKC, case-folded, trimmed), valid or not.

    The login path keys its counters on this even for malformed names, so that a
    malformed name is treated exactly like an unknown one.
    """
    return unicodedata.normalize("NFKC", raw).strip().casefold()


def normalise_username(raw: str) -> str:
    """The stored form of a user name; :class:`InvalidUsernameError` if it is not one.

    The error does not repeat the input: people type their password into the
    user-name field often enough that echoing it would leak passwords into logs.
    """
    folded = fold_username(raw)
    if not _USERNAME.fullmatch(folded):
        raise InvalidUsernameError
    return folded
