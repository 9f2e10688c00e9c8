"""Appending events: in the caller's transaction, one org's chain at a time.

`record` locks the org's chain head (SELECT ... FOR UPDATE on PostgreSQL; on SQLite every
transaction of the hub begins IMMEDIATE and holds the write lock), so concurrent writers queue up
and the chain never forks; appending reads and writes one head row, never the chain. The event
commits or rolls back with the change it records. If it cannot be written, `AuditUnavailable` (a
503) is raised and the caller's transaction rolls back: nothing happens unaudited.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any

import peewee

from hub import metrics
from hub.audit import checkpoints
from hub.audit.chain import GENESIS, event_hash
from hub.errors import Forbidden, Unavailable
from hub.storage.models import AuditEvent, AuditHead, Project, database, new_id, utcnow
from hub.storage.prepared import Prepared, raw_slot, slot
from hub.timestamps import to_iso

logger = logging.getLogger(__name__)

OUTCOMES = ("success", "denied", "failed")


class AuditUnavailable(Unavailable):
    """The audit log could not be written, so the change or read it was for did not happen."""


def record(principal, action: str, *, target_type: str | None = None, target_id: str | None = None,
           project: Project | None = None, outcome: str = "success",
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the principal's org chain, inside the caller's transaction (or its own).

    :param principal: who acted (`actor`, `request_id`, `client_ip` and `signer` are read from it;
        with a `signer`, a checkpoint that falls due is signed in the same transaction).
    :param details: ids, names, field names; never a secret value.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    # Inside the caller's transaction no savepoint is needed: a failure here fails the whole
    # transaction (AuditUnavailable), so the change it records rolls back with it.
    transaction = contextlib.nullcontext() if database.in_transaction() else database.atomic()
    try:
        with transaction:
            head = _locked_head(principal.org_id)
            now = checkpoints.millis(utcnow())  # as hashed
            event = {
                "id": new_id(), "org": principal.org_id, "seq": head.seq + 1, "at": to_iso(now),
                "actor": principal.actor, "action": action, "target_type": target_type,
                "target_id": target_id, "project": project.handle if project else None,
                "project_id": project.id if project else None, "outcome": outcome,
                "request_id": getattr(principal, "request_id", None),
                "client_ip": getattr(principal, "client_ip", None), "details": details or {},
            }
            digest = event_hash(head.hash, event)
            # The row's values as its fields name them; the model instance is made from them
            # directly (no defaults to compute, no attribute per field set one by one).
            values = {
                "id": event["id"], "org": principal.org_id, "seq": event["seq"], "at": now,
                "actor": event["actor"], "action": action, "target_type": target_type,
                "target_id": target_id, "project_id": event["project_id"],
                "project_handle": event["project"], "outcome": outcome,
                "request_id": event["request_id"], "client_ip": event["client_ip"],
                "details": event["details"], "prev_hash": head.hash, "hash": digest,
            }
            _APPEND.execute(**{name: value if value is None or type(value) is kind else db_value(value)
                               for name, db_value, kind in _EVENT_COLUMNS
                               for value in (values[name],)})
            row = AuditEvent(__no_default__=True)
            row.__data__ = values
            _ADVANCE.execute(org=principal.org_id, seq=event["seq"], hash=digest)
            head.seq, head.hash = event["seq"], digest
            signer = getattr(principal, "signer", None)
            if signer is not None and checkpoints.due(head, now):
                checkpoints.sign_head(signer, head, now)
    except peewee.DatabaseError as exc:
        metrics.count_audit_write_failure()
        logger.error("cannot write the audit event %s for org %s: %s", action, principal.org_id,
                     type(exc).__name__)
        raise AuditUnavailable("The audit log cannot be written right now, so nothing was done. "
                               "Try again; the operator should check the database (see the "
                               "server log).") from None
    return row


def record_denied(principal, action: str, **event) -> None:
    """A refused plaintext read, recorded in a transaction of its own (it commits although the
    request fails)."""
    with database.atomic():
        record(principal, action, outcome="denied", **event)


def require(principal, permission: str, action: str, **event) -> None:
    """`principal.require(permission)` for a plaintext read: a refusal is on record (`denied`).

    :raises Forbidden: the principal lacks the permission (after the event is written).
    """
    try:
        principal.require(permission)
    except Forbidden:
        record_denied(principal, action, **event)
        raise


def _head_query():
    query = AuditHead.select().where(AuditHead.org == slot("org"))
    if isinstance(database.obj, peewee.SqliteDatabase):
        return query  # SQLite's BEGIN IMMEDIATE already holds the write lock
    return query.for_update()


# Appending runs on every change and plaintext read: its three statements are compiled once per
# database (hub.storage.prepared), not by peewee on every call.
_HEAD = Prepared(AuditHead, _head_query)
_EVENT_FIELDS = AuditEvent._meta.sorted_fields


def _stored_as(field) -> type | None:
    """The Python type a field stores unconverted (peewee's CharField keeps a str as it is, its
    IntegerField an int), or None: always converted (JSON, datetimes)."""
    if isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    if type(field) is peewee.CharField:
        return str
    if type(field) is peewee.IntegerField:
        return int
    return None


# (name, db_value, the type that needs no conversion) per column of the event's INSERT
_EVENT_COLUMNS = [(field.name, field.db_value, _stored_as(field)) for field in _EVENT_FIELDS]
_APPEND = Prepared(AuditEvent, lambda: AuditEvent.insert(
    **{field.name: raw_slot(field.name) for field in _EVENT_FIELDS}))
_ADVANCE = Prepared(AuditHead, lambda: AuditHead.update(seq=raw_slot("seq"), hash=slot("hash"))
                    .where(AuditHead.org == slot("org")))


def _locked_head(org_id: str) -> AuditHead:
    """The org's chain head, locked until the transaction ends (made on the org's first event)."""
    head = _HEAD.first(org=org_id)
    if head is None:
        # Two first events of an org at once: one insert wins, the other does nothing; both then
        # lock the one row.
        AuditHead.insert(org=org_id, seq=0, hash=GENESIS, checkpoint_seq=0).on_conflict_ignore().execute()
        head = _HEAD.first(org=org_id)
    return head


def sign_head(signer, org_id: str, *, only_if_due: bool = True) -> bool:
    """Sign the org's head if a checkpoint is due (or, with only_if_due=False, whenever events are
    uncovered: before an export or a verify). Returns whether it signed."""
    with database.atomic():
        head = _locked_head(org_id)
        uncovered = head.seq > head.checkpoint_seq
        if uncovered and (not only_if_due or checkpoints.due(head, utcnow())):
            checkpoints.sign_head(signer, head)
            return True
    return False
