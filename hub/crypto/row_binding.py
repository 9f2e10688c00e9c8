"""MACs over the fields of a row that decide where plaintext goes or who may read it.

An attacker who can write the database but does not hold the root key can change any column. The
sealed columns resist that (their associated data binds them to their row); the fields beside them
(an integration's config host, an API key's permissions) are protected by a MAC instead: the
keyring's row-MAC key (derived from the mac key) over the canonical JSON of the bound fields,
stored in the row's `integrity` column and checked wherever the row is used. `kind` (the table)
separates the domains, so a MAC of one table never verifies on another.

The mac key never rotates (it also derives the API-key pepper), so rotate, rewrap and rotate-root
leave every MAC valid. What a MAC cannot stop: replaying a whole earlier state of a row (its old
fields with its old MAC), which needs state outside the database.
"""
from __future__ import annotations

import datetime
import hmac
from typing import Any

from hub.crypto.canonical import canonical_json


def _plain(value: Any) -> Any:
    """A column's value as the database gives it back: datetimes naive UTC in ISO form (JSON
    columns hold no datetimes)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    return value


def message(values: dict[str, Any]) -> bytes:
    """The canonical bytes of a row's bound fields (one value per column)."""
    return canonical_json({key: _plain(value) for key, value in values.items()})


def mac(keyring, kind: str, values: dict[str, Any]) -> str:
    return keyring.row_mac(kind, message(values))


def verifies(keyring, kind: str, values: dict[str, Any], stored: str | None) -> bool:
    """Whether `stored` is the MAC of these values (constant-time compare)."""
    if not isinstance(stored, str) or not stored:
        return False
    return hmac.compare_digest(mac(keyring, kind, values), stored)
