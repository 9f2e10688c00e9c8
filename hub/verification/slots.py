"""An org's places for running checks, as leases in the database (`verify_slot`), so that the
bound holds across every process and machine that shares the database.

An org has places 0..N-1. Taking one is one INSERT of (org_id, slot): the primary key refuses a
second holder, so the database settles two processes racing for the same place; a lease whose
`expires_at` has passed is taken over by the same statement (ON CONFLICT ... DO UPDATE WHERE
expired), which is how the places of a process that died holding them come free. Giving one back
deletes it, only if it is still the giver's (`holder`): a lease that expired and was taken over
belongs to its new holder.

Cost per check: a SELECT of the org's live leases, usually one INSERT, and one DELETE.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import time
import uuid
from typing import Iterator

import peewee

from hub.storage.database import DATABASE_ERRORS, release
from hub.storage.models import VerifySlot, bound, utcnow

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # how often a waiting check looks for a free place again


@dataclasses.dataclass(frozen=True)
class Lease:
    org_id: str
    slot: int
    holder: str


@contextlib.contextmanager
def _connected(db: peewee.Database) -> Iterator[None]:
    """This thread's connection: the request's if it has one (left open), else one for the block."""
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        with bound(db):
            yield
    finally:
        if opened:
            release(db)


class SlotLeases:
    """Leases on `places` places per org, each lasting `lease_seconds` unless given back."""

    def __init__(self, db: peewee.Database, places: int, lease_seconds: float):
        self.db = db
        self.places = places
        self.lease_seconds = lease_seconds

    def take(self, org_id: str, until: float) -> Lease | None:
        """A lease on a free place of the org, waiting for one until the monotonic time `until`;
        None if none came free by then. Not to be called inside a transaction (the lease must be
        visible to other processes at once)."""
        holder = str(uuid.uuid4())
        while True:
            slot = self._try_take(org_id, holder)
            if slot is not None:
                return Lease(org_id, slot, holder)
            remaining = until - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(POLL_SECONDS, remaining))

    def _try_take(self, org_id: str, holder: str) -> int | None:
        now = utcnow()
        expires_at = now + datetime.timedelta(seconds=self.lease_seconds)
        with _connected(self.db):
            live = {slot for (slot,) in VerifySlot.select(VerifySlot.slot).where(
                (VerifySlot.org_id == org_id) & (VerifySlot.expires_at > now)).tuples()}
            for slot in range(self.places):
                if slot in live:
                    continue
                taken = (VerifySlot.insert(org_id=org_id, slot=slot, holder=holder,
                                           expires_at=expires_at)
                         .on_conflict(conflict_target=[VerifySlot.org_id, VerifySlot.slot],
                                      update={VerifySlot.holder: holder,
                                              VerifySlot.expires_at: expires_at},
                                      where=(VerifySlot.expires_at <= now))
                         .as_rowcount().execute())
                if taken:
                    return slot
        return None

    def give_back(self, lease: Lease) -> None:
        """Free the place (if the lease is still the giver's). A database that fails here is
        logged, not raised: the lease then expires on its own."""
        try:
            with _connected(self.db):
                VerifySlot.delete().where(
                    (VerifySlot.org_id == lease.org_id) & (VerifySlot.slot == lease.slot)
                    & (VerifySlot.holder == lease.holder)).execute()
        except DATABASE_ERRORS as exc:
            log.warning("could not give back check place %s of org %s (%s); it frees itself "
                        "when its lease expires", lease.slot, lease.org_id, type(exc).__name__)

    def live(self, org_id: str) -> int:
        """How many of the org's places are taken now (for tests and diagnostics)."""
        with _connected(self.db):
            return (VerifySlot.select().where((VerifySlot.org_id == org_id)
                                              & (VerifySlot.expires_at > utcnow())).count())
