"""Signed checkpoints of an org's chain head.

A checkpoint says "the chain of org O had, at time T, its event number S with hash H", signed with
the hub's Ed25519 signing key (a key of the keyring; its public half is published at
`GET /v1/audit-checkpoints/public-key`). Exactly these bytes are signed:

    canonical_json({"v": 1, "org": O, "seq": S, "hash": H, "at": T})

(keys sorted, no spaces, UTF-8; T is ISO 8601 ending in Z, to the millisecond). Whoever holds an
exported log and the public key can check that the events up to S hash to H; a history rewritten
with recomputed hashes ends at another H and fails the check.

The hub signs a checkpoint when it appends an event and the head is 1,000 events past the last
checkpoint or the last checkpoint is an hour old (`due`), and on demand (`hub audit checkpoint`,
and before an export or a verify), so every head is covered within the hour it was written.
"""
from __future__ import annotations

import base64
import datetime
from typing import Any

import nacl.exceptions
import nacl.signing

from hub.crypto.canonical import canonical_json
from hub.storage.models import AuditCheckpoint, AuditHead, new_id, utcnow
from hub.timestamps import to_iso

EVERY_EVENTS = 1000
EVERY = datetime.timedelta(hours=1)


def signed_bytes(org_id: str, seq: int, hash_: str, at: str) -> bytes:
    return canonical_json({"v": 1, "org": org_id, "seq": seq, "hash": hash_, "at": at})


def due(head: AuditHead, now: datetime.datetime) -> bool:
    """Whether the head has events no checkpoint covers, and enough of them or for long enough."""
    if head.seq <= head.checkpoint_seq:
        return False
    return (head.seq - head.checkpoint_seq >= EVERY_EVENTS or head.checkpoint_at is None
            or now - head.checkpoint_at >= EVERY)


def sign_head(signer, head: AuditHead, now: datetime.datetime | None = None) -> AuditCheckpoint:
    """Sign the (locked) head as it is now; the caller's transaction stores both."""
    now = millis(now or utcnow())
    key_id, signature = signer.sign(signed_bytes(head.org_id, head.seq, head.hash, to_iso(now)))
    checkpoint = AuditCheckpoint.create(
        id=new_id(), org=head.org_id, seq=head.seq, hash=head.hash, at=now, key_id=key_id,
        signature=base64.b64encode(signature).decode("ascii"))
    (AuditHead.update(checkpoint_seq=head.seq, checkpoint_at=now)
     .where(AuditHead.org == head.org_id).execute())
    head.checkpoint_seq, head.checkpoint_at = head.seq, now
    return checkpoint


def to_record(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {"org": checkpoint.org_id, "seq": checkpoint.seq, "hash": checkpoint.hash,
            "at": to_iso(checkpoint.at), "signature": checkpoint.signature,
            "key_id": checkpoint.key_id}


def public_key_record(keyring) -> dict[str, Any]:
    """The verifying keys as published (`GET /v1/audit-checkpoints/public-key`, `hub audit
    public-key --json`): the one signing now, and every one, for older checkpoints."""
    keys = keyring.verify_keys()
    primary = keyring.signing_key_id()
    encoded = {key_id: base64.b64encode(key).decode("ascii") for key_id, key in keys.items()}
    return {"algorithm": "Ed25519", "key_id": primary, "public_key": encoded.get(primary),
            "keys": encoded, "signed": SIGNED_DOC}


SIGNED_DOC = ('canonical_json({"v": 1, "org": ORG_ID, "seq": SEQ, "hash": HASH, "at": AT}): keys '
              "sorted, no spaces, UTF-8 (docs/audit.md)")


def signature_holds(record: dict[str, Any], public_keys: dict[str, bytes]) -> bool:
    """Whether a checkpoint record's signature is good under the public key it names."""
    key = public_keys.get(record.get("key_id"))
    if key is None:
        return False
    try:
        message = signed_bytes(record["org"], int(record["seq"]), record["hash"], record["at"])
        nacl.signing.VerifyKey(key).verify(message, base64.b64decode(record["signature"]))
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError, KeyError):
        return False
    return True


def millis(moment: datetime.datetime) -> datetime.datetime:
    """The moment to the millisecond: what the chain hashes and a checkpoint signs."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
