"""Keyring operations as the operator runs them, each on record in every org's audit chain.

A keyring change concerns the whole hub, so its event (`crypto.rotate`, ...) is appended to each
org's chain, in the same transaction as the change: every org's auditors see it.
"""
from __future__ import annotations

from hub.audit import log as audit
from hub.crypto.keyring import KeyRing
from hub.storage.models import Org, database
from hub.tenancy import operator


def rotate(keyring: KeyRing) -> str:
    """A new primary data key (`KeyRing.rotate`), recorded as `crypto.rotate`; returns its id."""
    with database.atomic():
        new_id = keyring.rotate()
        for org in Org.select():
            audit.record(operator(org, signer=keyring), "crypto.rotate", target_type="data_key",
                         target_id=new_id)
    return new_id
