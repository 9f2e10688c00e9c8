"""Checking a chain: in the database (`check_org`) or in an export, offline (`check_export`).

Both walk the events in seq order (`chain.first_break`: the first event changed, removed, inserted
or reordered) and then check every checkpoint: its signature under the published key, and that
the event it names has the hash it signed. A history rewritten with recomputed hashes passes the
first walk and fails the second.
"""
from __future__ import annotations

import dataclasses
import json
from typing import IO, Any, Iterable, Iterator

from hub.audit import checkpoints
from hub.audit.chain import GENESIS, Break, first_break
from hub.audit.queries import to_record
from hub.storage.models import AuditCheckpoint, AuditEvent

BATCH = 1000


@dataclasses.dataclass
class Report:
    org: str
    events: int = 0
    checkpoints: int = 0
    problem: str | None = None  # the first thing that does not hold, for a person

    @property
    def ok(self) -> bool:
        return self.problem is None


def _rows(org_id: str) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        batch = list(AuditEvent.select().where((AuditEvent.org == org_id) & (AuditEvent.seq > after))
                     .order_by(AuditEvent.seq).limit(BATCH))
        for row in batch:
            yield to_record(row) | {"org": row.org_id}
        if len(batch) < BATCH:
            return
        after = batch[-1].seq


def check_org(org_id: str, public_keys: dict[str, bytes]) -> Report:
    """Walk one org's chain and its checkpoints in the database."""
    marks = [checkpoints.to_record(c) for c in
             AuditCheckpoint.select().where(AuditCheckpoint.org == org_id).order_by(AuditCheckpoint.seq)]
    return _check(org_id, _rows(org_id), marks, public_keys)


def _check(org_id: str, events: Iterable[dict[str, Any]], marks: list[dict[str, Any]],
           public_keys: dict[str, bytes], *, start_seq: int = 1, start_hash: str = GENESIS) -> Report:
    report = Report(org_id)
    hashes: dict[int, str] = {}

    def remember(stream):
        for event in stream:
            report.events += 1
            if event["seq"] in wanted:
                hashes[event["seq"]] = event["hash"]
            yield event

    wanted = {int(m["seq"]) for m in marks}
    broken, last_seq, _ = first_break(remember(events), start_seq=start_seq, start_hash=start_hash)
    if broken is not None:
        report.problem = str(broken)
        return report
    previous = start_seq - 1
    for mark in marks:
        seq = int(mark["seq"])
        report.checkpoints += 1
        if not checkpoints.signature_holds(mark, public_keys):
            report.problem = (f"checkpoint at event {seq}: its signature does not verify under the "
                              f"published key {mark.get('key_id')!r} (the checkpoint was forged or altered)")
            return report
        if seq > last_seq:
            report.problem = (f"event {last_seq + 1}: missing: checkpoint {seq} was signed, but the "
                              f"chain ends at event {last_seq} (events at the end were removed)")
            return report
        if seq >= start_seq and hashes.get(seq) != mark["hash"]:
            report.problem = (f"event {previous + 1}..{seq}: history was rewritten: event {seq} does "
                              f"not have the hash its signed checkpoint names (hashes were recomputed "
                              f"after an event after {previous} was changed, removed or inserted)")
            return report
        previous = seq
    return report


def check_export(lines: IO[str], public_key: bytes) -> list[Report]:
    """Check an export (`hub audit export`) with the verifying key alone: no database, no root key.

    The export may start at any event (`--since`): its first event's prev_hash is taken as given,
    and the checkpoints after it still tie what follows to signed hashes.
    """
    events: dict[str, list[dict[str, Any]]] = {}
    marks: dict[str, list[dict[str, Any]]] = {}
    key_ids: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item.pop("type")
        except (ValueError, KeyError, AttributeError):
            return [Report("?", problem=f"line {number} of the export is not an event or a checkpoint")]
        if kind == "event":
            events.setdefault(item["org"], []).append(item)
        elif kind == "checkpoint":
            marks.setdefault(item["org"], []).append(item)
            key_ids.add(item.get("key_id"))
    reports = []
    for org_id in sorted(set(events) | set(marks)):
        stream = events.get(org_id, [])
        first = stream[0] if stream else None
        keys = {key_id: public_key for key_id in key_ids}  # the one key given verifies all it signed
        org_marks = sorted(marks.get(org_id, []), key=lambda m: int(m["seq"]))
        reports.append(_check(org_id, stream, org_marks, keys,
                              start_seq=first["seq"] if first else 1,
                              start_hash=first["prev_hash"] if first else GENESIS))
    return reports


__all__ = ["Break", "Report", "check_export", "check_org"]
