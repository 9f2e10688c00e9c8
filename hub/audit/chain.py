"""How events are chained, and how a chain is checked.

Each event's `hash` is SHA-256 over its predecessor's hash and its own canonical JSON:

    hash = sha256(prev_hash (64 hex characters, ASCII) || canonical_json(event))

where `event` is the object {id, org, seq, at, actor, action, target_type, target_id, project,
project_id, outcome, request_id, client_ip, details} (`at` as ISO 8601 ending in Z, to the
millisecond) and canonical JSON is keys sorted, no spaces, UTF-8 (`hub.crypto.canonical`). The
first event of an org has `prev_hash` = 64 zeros and `seq` 1; `seq` counts up by one.

Changing an event changes its hash; removing, inserting or swapping events breaks a `prev_hash` or
a `seq`. Someone who rewrites history and recomputes every hash is caught by the signed
checkpoints (`hub.audit.checkpoints`), which they cannot forge without the signing key.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Iterable

from hub.crypto.canonical import canonical_json

GENESIS = "0" * 64
FIELDS = ("id", "org", "seq", "at", "actor", "action", "target_type", "target_id", "project",
          "project_id", "outcome", "request_id", "client_ip", "details")


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    body = {name: event.get(name) for name in FIELDS}
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


@dataclasses.dataclass(frozen=True)
class Break:
    """The first place a chain does not hold: the event's seq and what is wrong with it."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.problem}"


def first_break(events: Iterable[dict[str, Any]], *, start_seq: int = 1,
                start_hash: str = GENESIS) -> tuple[Break | None, int, str]:
    """Walk events in seq order; (the first break or None, the last good seq, its hash).

    Tells apart an event that was changed (its stored hash is not the hash of its content), removed
    or inserted (seq skips or repeats), and reordered (prev_hash is not its predecessor's hash).
    """
    expected_seq, prev = start_seq, start_hash
    for event in events:
        seq = event["seq"]
        if seq > expected_seq:
            return Break(expected_seq, f"missing: the chain jumps from event {expected_seq - 1} "
                                       f"to event {seq} (events were removed)"), expected_seq - 1, prev
        if seq < expected_seq:
            return Break(seq, f"out of place: event {seq} appears again after event "
                              f"{expected_seq - 1} (an event was inserted or reordered)"), expected_seq - 1, prev
        if event["prev_hash"] != prev:
            return Break(seq, "its prev_hash is not the hash of the event before it (events were "
                              "inserted, removed or reordered)"), expected_seq - 1, prev
        if event_hash(prev, event) != event["hash"]:
            return Break(seq, "its content does not match its hash (the event was changed)"), expected_seq - 1, prev
        prev = event["hash"]
        expected_seq += 1
    return None, expected_seq - 1, prev
