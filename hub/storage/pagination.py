"""Keyset pagination with opaque cursors.

Every list is ordered by its table's primary key (time-ordered UUIDv7 ids) or another unique
sort key and resumes after the last key seen, so a page costs one index range scan at any depth.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from hub.errors import invalid_field
from hub.storage.storable_text import unstorable

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclasses.dataclass
class Page:
    items: list
    next_cursor: str | None
    has_more: bool


def encode_cursor(after: str) -> str:
    # Hex of the key's ASCII (keys are UUIDs and integers): every string of the documented shape
    # (pairs 01-7f, see CURSOR_PATTERN) decodes, so a client can only send a cursor that reads.
    return after.encode("ascii").hex()


# What a cursor looks like, for the document: hex pairs of ASCII without NUL; integer keys (audit
# sequence numbers, version numbers) are ASCII digits, pairs 30-39.
CURSOR_PATTERN = r"^(?:0[1-9a-f]|[1-7][0-9a-f]){1,100}$"
INTEGER_CURSOR_PATTERN = r"^(?:3[0-9]){1,18}$"


def _hex_digits_up_to(maximum: int) -> str:
    """A pattern for the hex (pairs 30-39) of the decimal numbers 1..maximum: each string it
    matches decodes to a key the column holds, so none of them is refused."""
    top = str(maximum)
    digit = "3[0-9]"
    options = [f"3[1-9](?:{digit}){{0,{len(top) - 2}}}"]  # fewer digits than the maximum
    for i, d in enumerate(top):  # as many digits: equal up to i, smaller at i, anything after
        low = "1" if i == 0 else "0"
        if int(d) > int(low):
            rest = len(top) - i - 1
            options.append("".join(f"3{c}" for c in top[:i]) + f"3[{low}-{int(d) - 1}]"
                           + (f"(?:{digit}){{{rest}}}" if rest else ""))
    options.append("".join(f"3{c}" for c in top))
    return "^(?:" + "|".join(options) + ")$"


VERSION_CURSOR_PATTERN = _hex_digits_up_to(2**31 - 1)  # the versions column is a 32-bit integer


def decode_cursor(cursor: str) -> str:
    try:
        if len(cursor) > 200:
            raise ValueError
        after = bytes.fromhex(cursor).decode("ascii")
        if not after or unstorable(after):
            raise ValueError
        return after
    except Exception:  # anything that does not decode is the caller's mistake, not ours
        raise invalid_field("cursor", "Not a cursor this API returned; start again without it.") from None


def paginate(query, key_field, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
             key_of: Callable[[Any], Any] | None = None, key_type: Callable[[str], Any] = str,
             descending: bool = False) -> Page:
    """One page of a peewee query, ascending (or descending) by `key_field` (a unique, indexed
    column). `key_type` turns the cursor's key back into the column's type (e.g. int)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_field("limit", f"Must be between 1 and {MAX_LIMIT}.")
    if cursor:
        try:
            after = key_type(decode_cursor(cursor))
            if isinstance(after, int) and not -2**63 <= after < 2**63:
                raise ValueError  # no database column holds it: not a cursor this API made
        except ValueError:
            raise invalid_field("cursor", "Not a cursor this API returned; start again without it.") from None
        query = query.where(key_field < after if descending else key_field > after)
    rows = list(query.order_by(key_field.desc() if descending else key_field).limit(limit + 1))
    has_more = len(rows) > limit
    rows = rows[:limit]
    key_of = key_of or (lambda row: getattr(row, key_field.name))
    return Page(rows, encode_cursor(str(key_of(rows[-1]))) if has_more else None, has_more)
