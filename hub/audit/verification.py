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
from hub.storage.models import AuditCheckpoint, AuditEvent, AuditHead
from hub.timestamps import parse_iso

BATCH = 1000


@dataclasses.dataclass
class Report:
    org: str
    events: int = 0
    checkpoints: int = 0
    problem: str | None = None  # the first thing that does not hold, for a person
    last_seq: int = 0
    last_hash: str = GENESIS

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
    """Walk one org's chain and its checkpoints in the database, and hold the end of the chain
    against the org's chain head (so events removed after the last checkpoint, or checkpoints
    removed, show)."""
    marks = [checkpoints.to_record(c) for c in
             AuditCheckpoint.select().where(AuditCheckpoint.org == org_id).order_by(AuditCheckpoint.seq)]
    head = AuditHead.get_or_none(AuditHead.org == org_id)
    report = _check(org_id, _rows(org_id), marks, public_keys)
    if report.ok and head is not None:
        report.problem = _head_problem(head, report, marks)
    return report


def _head_problem(head: AuditHead, report: "Report", marks: list[dict[str, Any]]) -> str | None:
    if head.seq != report.last_seq or (head.seq and head.hash != report.last_hash):
        if head.seq > report.last_seq:
            return (f"event {report.last_seq + 1}: missing: the chain ends at event "
                    f"{report.last_seq}, but its head says {head.seq} events were written (events "
                    "at the end were removed)")
        return (f"event {head.seq}: the chain's head names event {head.seq} with another hash than "
                "the chain has (the head or the end of the chain was altered)")
    if head.checkpoint_seq and head.checkpoint_seq not in {int(m["seq"]) for m in marks}:
        return (f"checkpoint at event {head.checkpoint_seq}: missing: the head says it was signed, but "
                "it is gone (checkpoints were removed)")
    return None


def _check(org_id: str, events: Iterable[dict[str, Any]], marks: list[dict[str, Any]],
           public_keys: dict[str, bytes], *, start_seq: int = 1, start_hash: str = GENESIS) -> Report:
    report = Report(org_id)
    hashes: dict[int, str] = {}
    wanted = {int(m["seq"]) for m in marks}
    signed_at = sorted((int(m["seq"]), m["at"]) for m in marks)
    cadence: list[str] = []

    def remember(stream):
        # The hub signs a checkpoint when an event is appended 1,000 events or an hour after the
        # last one; an event that should have brought one and has none shows removed checkpoints.
        index, last_mark_seq, last_mark_at = 0, start_seq - 1, None
        for event in stream:
            report.events += 1
            seq = event["seq"]
            if seq in wanted:
                hashes[seq] = event["hash"]
            while index < len(signed_at) and signed_at[index][0] < seq:
                last_mark_seq, last_mark_at = signed_at[index]
                index += 1
            if not cadence and seq not in wanted:
                late = last_mark_at is not None and _hours_between(last_mark_at, event["at"]) >= 1
                first = seq == 1  # an org's first event always brings a checkpoint (none was due)
                if seq - last_mark_seq >= checkpoints.EVERY_EVENTS or late or first:
                    cadence.append(f"event {seq}: no checkpoint, although one is signed with an org's "
                                   "first event and with the event that comes 1,000 events or an "
                                   "hour after the last (checkpoints were removed)")
            yield event

    broken, report.last_seq, report.last_hash = first_break(
        remember(events), start_seq=start_seq, start_hash=start_hash)
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
        if seq > report.last_seq:
            report.problem = (f"event {report.last_seq + 1}: missing: checkpoint {seq} was signed, but "
                              f"the chain ends at event {report.last_seq} (events at the end were removed)")
            return report
        if seq >= start_seq and hashes.get(seq) != mark["hash"]:
            report.problem = (f"event {previous + 1}..{seq}: history was rewritten: event {seq} does "
                              f"not have the hash its signed checkpoint names (hashes were recomputed "
                              f"after an event after {previous} was changed, removed or inserted)")
            return report
        previous = seq
    if cadence:
        report.problem = cadence[0]
    return report


def _hours_between(earlier: str, later: str) -> float:
    return (parse_iso(later) - parse_iso(earlier)).total_seconds() / 3600


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
        report = _check(org_id, stream, org_marks, keys, start_seq=first["seq"] if first else 1,
                        start_hash=first["prev_hash"] if first else GENESIS)
        covered = max((int(m["seq"]) for m in org_marks), default=0)
        if report.ok and report.last_seq > covered:
            # `hub audit export` signs the head before it writes: an export ends on a checkpoint.
            report.problem = (f"event {covered + 1}..{report.last_seq}: no checkpoint covers the end of "
                              "the export (it was cut, or its checkpoints removed)")
        reports.append(report)
    return reports


__all__ = ["Break", "Report", "check_export", "check_org"]
