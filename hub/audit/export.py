"""The export a SIEM or an auditor reads: JSON lines, one event or checkpoint per line.

Each line is an event (`{"type": "event", ...the API's fields, "org": ORG_ID}`) or a checkpoint
(`{"type": "checkpoint", "org", "seq", "hash", "at", "signature", "key_id"}`), in seq order,
each checkpoint right after the event it covers. `hub audit verify --file EXPORT --public-key KEY`
checks one with nothing but the verifying key.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterator

from hub.audit import checkpoints
from hub.audit.queries import to_record
from hub.storage.models import AuditCheckpoint, AuditEvent

BATCH = 1000


def lines_after(org_id: str, after_seq: int, *, since: datetime.datetime | None = None
                ) -> Iterator[dict[str, Any]]:
    """Events of the org after `after_seq` (and at or after `since`), with their checkpoints."""
    while True:
        query = AuditEvent.select().where((AuditEvent.org == org_id) & (AuditEvent.seq > after_seq))
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        batch = list(query.order_by(AuditEvent.seq).limit(BATCH))
        if not batch:
            return
        marks = {c.seq: c for c in AuditCheckpoint.select().where(
            (AuditCheckpoint.org == org_id) & AuditCheckpoint.seq.between(batch[0].seq, batch[-1].seq))}
        for row in batch:
            yield {"type": "event", **to_record(row), "org": org_id}
            if row.seq in marks:
                yield {"type": "checkpoint", **checkpoints.to_record(marks[row.seq])}
        after_seq = batch[-1].seq


def checkpoints_between(org_id: str, after_seq: int, up_to_seq: int) -> Iterator[dict[str, Any]]:
    """Checkpoints of the org with after_seq < seq <= up_to_seq, in seq order."""
    query = (AuditCheckpoint.select()
             .where((AuditCheckpoint.org == org_id) & (AuditCheckpoint.seq > after_seq)
                    & (AuditCheckpoint.seq <= up_to_seq)).order_by(AuditCheckpoint.seq))
    for checkpoint in query:
        yield {"type": "checkpoint", **checkpoints.to_record(checkpoint)}
