"""Keyring operations as the operator runs them, each on record in every org's audit chain.

A keyring change concerns the whole hub, so its event (`crypto.rotate`, `crypto.retire`,
`crypto.rotate_root`, `crypto.rewrap`) is appended to each org's chain. Rotate, retire and
rotate-root write it in the same transaction as the change. A rewrap is many transactions (one per
batch); its one `crypto.rewrap` event per org, written when the run ends, sums up what that run did
(a run killed midway leaves its committed batches, which are complete and need no event of their
own to be correct, and the rerun's event counts what it did).
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path

from hub.audit import log as audit
from hub.crypto import access
from hub.crypto import rewrap as rewrapping
from hub.crypto.keyring import ACTIVE, KeyRing
from hub.crypto.root_key import (
    encode_root_key,
    install_pending_root_key_file,
    load_root_key,
    new_root_key,
    pending_root_key_path,
    write_root_key_file,
)
from hub.errors import Conflict, RootKeyError
from hub.storage.models import Org, database
from hub.tenancy import operator


def _record_everywhere(keyring: KeyRing, action: str, **fields) -> None:
    for org in Org.select():
        audit.record(operator(org, signer=keyring), action, **fields)


def rotate(keyring: KeyRing) -> str:
    """A new primary data key (`KeyRing.rotate`), recorded as `crypto.rotate`; returns its id."""
    with database.atomic():
        new_id = keyring.rotate()
        _record_everywhere(keyring, "crypto.rotate", target_type="data_key", target_id=new_id)
    return new_id


def retire(keyring: KeyRing, key_id: str) -> bool:
    """Mark a data key retired (`KeyRing.retire`: never the primary, never one that still protects
    a ciphertext), recorded as `crypto.retire`. False when it was retired already (no event)."""
    return keyring.retire(key_id, in_transaction=lambda: _record_everywhere(
        keyring, "crypto.retire", target_type="data_key", target_id=key_id))


def rewrap(keyring: KeyRing, *, batch_size: int = rewrapping.DEFAULT_BATCH_SIZE, pause: float = 0.0,
           retire_emptied: bool = False, progress=None) -> tuple[rewrapping.Summary, list[str]]:
    """Every ciphertext under the primary data key (`hub.crypto.rewrap`), then one `crypto.rewrap`
    event per org; with `retire_emptied`, every active data key left protecting nothing is retired
    (each its own `crypto.retire`). Returns the summary and the ids retired."""
    summary = rewrapping.rewrap(keyring, batch_size=batch_size, pause=pause, progress=progress)
    clean = not summary.failed and not summary.remaining
    with database.atomic():
        _record_everywhere(keyring, "crypto.rewrap", target_type="data_key", target_id=summary.primary,
                           outcome="success" if clean else "failed", details=summary.audit_details())
    retired = []
    if retire_emptied:
        for row in keyring.status():
            if row["state"] == ACTIVE and row["ciphertexts"] == 0:
                try:
                    if retire(keyring, row["id"]):
                        retired.append(row["id"])
                except Conflict:  # written under it a moment ago (a seal racing with a rotation)
                    pass
    return summary, retired


# --- the root key ----------------------------------------------------------------------------------

@dataclasses.dataclass
class RootRotation:
    entries: int  # keyring entries re-encrypted
    key_file: Path | None  # the root key file now holding the new key (None: HUB_ROOT_KEY)
    old_key_file: Path | None  # where the old key file was kept
    finished_interrupted: bool = False  # an earlier, interrupted run was completed instead


def finish_interrupted_root_rotation(config) -> RootRotation | None:
    """When the hub uses its key file and an interrupted `rotate-root` left `root.key.new`: install
    it if its rotation committed (the keyring opens with it); refuse if it did not (it may be a
    rotation running right now). None when there is nothing to finish. Needs no open keyring."""
    if config.get("ROOT_KEY") is not None:
        return None
    path = access.root_key_path(config)
    pending = pending_root_key_path(path)
    if not pending.exists():
        return None
    if access.pending_root_key_opens(config):
        kept = install_pending_root_key_file(path)
        return RootRotation(entries=0, key_file=path, old_key_file=kept, finished_interrupted=True)
    current = load_root_key(None, path)
    if current is not None and access.opens(current):
        raise RootKeyError(
            f"{pending} exists but does not open the keyring ({path} does): a 'hub crypto "
            "rotate-root' is running now, or one stopped before its change was committed. If none "
            f"is running, delete {pending} and run 'hub crypto rotate-root' again.")
    raise RootKeyError(f"Neither {path} nor {pending} opens the keyring stored in this database. "
                       "Restore the root key file this database was last rotated to.")


def rotate_root(keyring: KeyRing, config, *, announce: Callable[[str], None] | None = None) -> RootRotation:
    """Re-encrypt the keyring under a new root key (`KeyRing.rewrap_keyring`), recorded as
    `crypto.rotate_root`, in one transaction. The new key is made durable before that commits:

    - with the key file (HUB_ROOT_KEY unset), it is written to `root.key.new` (0600, synced); after
      the commit it replaces `root.key`, the old file kept as `root.key.old-<UTC time>`;
    - with HUB_ROOT_KEY, `announce(base64 key)` is called (the CLI prints it once); the operator must
      put it in the secret store before restarting.

    If the transaction fails, the old key stays in force; `root.key.new` is removed only when the
    old key is seen to open the keyring still (a failed COMMIT may have happened after all).
    """
    from_env = config.get("ROOT_KEY") is not None
    if from_env and announce is None:
        raise ValueError("with HUB_ROOT_KEY the new key must be announced")
    path = access.root_key_path(config)
    pending = pending_root_key_path(path)
    old_key, new_key = keyring._root_key, new_root_key()
    written = False

    def in_transaction(count: int) -> None:
        nonlocal written
        if not from_env:
            write_root_key_file(pending, new_key)  # refuses to overwrite a root.key.new
            written = True
        _record_everywhere(keyring, "crypto.rotate_root", target_type="keyring",
                           details={"entries": count, "key_source": "HUB_ROOT_KEY" if from_env
                                    else "root_key_file"})
        if from_env:  # last: printed only when nothing but the commit is left
            announce(encode_root_key(new_key))

    try:
        entries = keyring.rewrap_keyring(new_key, in_transaction=in_transaction)
    except BaseException:
        if written:
            with contextlib.suppress(Exception):  # cannot tell: leave it; the start says what to do
                if access.opens(old_key):
                    pending.unlink(missing_ok=True)
        raise
    if from_env:
        return RootRotation(entries=entries, key_file=None, old_key_file=None)
    kept = install_pending_root_key_file(path)
    return RootRotation(entries=entries, key_file=path, old_key_file=kept)
