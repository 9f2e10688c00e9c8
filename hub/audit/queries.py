"""Reading the audit log: events newest first, a page at a time, and the checkpoints.

A page walks an index range in `seq` order ((org, seq), (org, action, seq), (project, seq) or
(project, action, seq)); `since` becomes a seq bound through the (org, at) index (events are
numbered under the chain lock, so their times do not go down as seq goes up). So a page costs the
same at a thousand events and at ten million.
"""
from __future__ import annotations

import datetime
from typing import Any

from hub.audit import checkpoints
from hub.errors import Forbidden
from hub.storage.models import AuditCheckpoint, AuditEvent
from hub.storage.pagination import DEFAULT_LIMIT, Page, paginate
from hub.tenancy import find_project
from hub.tenancy import permissions as perms
from hub.timestamps import to_iso


def to_record(row: AuditEvent) -> dict[str, Any]:
    return {"id": row.id, "seq": row.seq, "at": to_iso(row.at), "actor": row.actor,
            "action": row.action, "target_type": row.target_type, "target_id": row.target_id,
            "project": row.project_handle, "project_id": row.project_id, "outcome": row.outcome,
            "request_id": row.request_id, "client_ip": row.client_ip, "details": row.details,
            "prev_hash": row.prev_hash, "hash": row.hash}


def _since_seq(org_id: str, since: datetime.datetime) -> int | None:
    first = (AuditEvent.select(AuditEvent.seq)
             .where((AuditEvent.org == org_id) & (AuditEvent.at >= since))
             .order_by(AuditEvent.at, AuditEvent.seq).limit(1).scalar())
    return first


def list_events(principal, *, project_ref: str | None = None, action: str | None = None,
                since: datetime.datetime | None = None, limit: int = DEFAULT_LIMIT,
                cursor: str | None = None) -> Page:
    """A project's events (`project_ref`) or the whole org's, newest first (audit:read; the
    org's log needs a key that reaches every project)."""
    principal.require(perms.AUDIT_READ)
    query = AuditEvent.select()
    if project_ref is not None:
        project = find_project(principal, project_ref)
        query = query.where(AuditEvent.project_id == project.id)
    else:
        if principal.project_ids is not None:
            raise Forbidden("This key reaches only some projects, so it cannot read the org's whole "
                            "audit log; read each project's at /v1/projects/{project}/audit-events.")
        query = query.where(AuditEvent.org == principal.org_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        first = _since_seq(principal.org_id, since)
        if first is None:
            return Page([], None, False)
        query = query.where(AuditEvent.seq >= first)
    return paginate(query, AuditEvent.seq, limit=limit, cursor=cursor, key_type=int, descending=True)


def list_checkpoints(principal, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
    """The org's signed checkpoints, newest first (audit:read)."""
    principal.require(perms.AUDIT_READ)
    query = AuditCheckpoint.select().where(AuditCheckpoint.org == principal.org_id)
    page = paginate(query, AuditCheckpoint.seq, limit=limit, cursor=cursor, key_type=int,
                    descending=True)
    page.items = [checkpoints.to_record(row) for row in page.items]
    return page
