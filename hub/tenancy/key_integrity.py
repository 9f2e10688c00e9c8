"""The MAC that protects what an API key may do (`hub.crypto.row_binding`).

Bound: the key's id, org, public id and secret hash (who it is), role, permissions and projects
(what it may do), expiry and revocation (when), and the key that made it. Computed from the row as
the database gives it back, so it verifies on every read. A key whose row does not verify is
refused (401) and logged for the operator: someone changed it outside the hub.
"""
from __future__ import annotations

import logging

from hub.crypto import row_binding
from hub.errors import Unauthenticated
from hub.storage.models import ApiKey

KIND = "api_key"

log = logging.getLogger("hub.integrity")


def bound_values(key: ApiKey) -> dict:
    projects = key.projects
    return {"id": key.id, "org": key.org_id, "public_id": key.public_id,
            "secret_hash": key.secret_hash, "role": key.role,
            "permissions": sorted(key.permissions or ()),
            "projects": sorted(projects) if projects is not None else None,
            "expires_at": key.expires_at, "revoked_at": key.revoked_at,
            "created_by": key.created_by}


def restamp(keyring, key_id: str) -> None:
    """Recompute a key's MAC from its stored row (inside the transaction that changed it)."""
    stored = ApiKey.get_by_id(key_id)
    ApiKey.update(integrity=row_binding.mac(keyring, KIND, bound_values(stored))).where(
        ApiKey.id == key_id).execute()


def _as_verified(key: ApiKey) -> tuple:
    """Every bound value of the row and its stored MAC, as a set member: equal only to a row
    whose values are equal (strings to strings, datetimes to the same moment), and so whose
    canonical JSON and MAC are the same."""
    projects = key.projects
    return (key.id, key.org_id, key.public_id, key.secret_hash, key.role,
            tuple(sorted(key.permissions or ())),
            tuple(sorted(projects)) if projects is not None else None,
            key.expires_at, key.revoked_at, key.created_by, key.integrity)


def require(keyring, key: ApiKey) -> None:
    """Unauthenticated (and a log line) unless the key's MAC verifies.

    Runs on every authenticated request, on the row as read for it. A row whose values and MAC
    are exactly those of one that verified before verifies again (the keyring remembers them):
    any change to a bound field or to the MAC misses and is checked in full."""
    verified = getattr(keyring, "verified_rows", None)
    remembered = verified(KIND) if verified is not None else None
    if remembered is not None:
        try:
            row = _as_verified(key)
            if row in remembered:
                return
        except TypeError:  # a value no honest row holds (a list in a list): checked in full
            remembered = None
    if not row_binding.verifies(keyring, KIND, bound_values(key), key.integrity):
        log.error("integrity check failed: API key %s (%s) of org %s: its stored record was "
                  "changed outside the hub; refused", key.public_id, key.id, key.org_id)
        raise Unauthenticated("This API key's stored record does not verify (it was changed "
                              "outside the hub), so it is refused. The operator should check the "
                              "server log.")
    if remembered is not None:
        remembered.add(row)
