"""The keyring and sealed records.

Three layers:

- The **root key** (32 bytes, base64 in `HUB_ROOT_KEY` or the instance folder's `root.key`) never
  enters the database. It encrypts only the keyring.
- The **keyring** is the `keyring` table (`models.KeyringEntry`): random 32-byte keys, each wrapped by
  the root key with XChaCha20-Poly1305, with associated data binding the wrapped key to its id and
  purpose (so rows cannot be swapped). Data keys (`dk_...`) seal records: exactly one is `primary`
  (new seals), `active` ones still open what they sealed, `retired` ones protect nothing any more.
  One `mac` key (id `mac`) is the source of the keyed hashes (fingerprints, the API-key pepper,
  the row MACs of `hub.crypto.row_binding`); it never rotates.
- A **sealed record** is `(key_id, nonce || ciphertext)` under a data key, with associated data
  chosen by the caller (e.g. the row's table, id and column) so a ciphertext cannot be moved to
  another row.

Administration: `rotate` (a new primary), `retire` (a data key that protects nothing and is not the
primary), `rewrap_keyring` (every entry under a new root key: `hub crypto rotate-root`), and
`reseal_many` for `hub crypto rewrap` (hub/crypto/rewrap.py), which moves every sealed column onto
the primary.

"Primary" means primary in the database right now: `seal` reads the primary's id on every call (one
indexed query), so `hub crypto rotate` in one process is followed at once by every server process.

Nothing here puts plaintext or key material in a repr or an exception message.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
from typing import NamedTuple

import nacl.bindings
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.signing
import nacl.utils
from peewee import IntegrityError, fn

from hub import metrics
from hub.crypto.root_key import _check_root_key
from hub.errors import (
    Conflict,
    DecryptionFailed,
    KeyRingCorrupt,
    KeyRingMissing,
    NotFound,
    RootKeyMismatch,
)
from hub.storage import models
from hub.storage.models import KeyringEntry, database, utcnow

_VERIFIED_ROWS_MAX = 4096  # per kind: far more API keys than a hub serves at once
_KEY_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES  # 32
_NONCE_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
_TAG_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16

# KeyringEntry.purpose and .state values.
DATA = "data"
MAC = "mac"
SIGNING = "signing"  # Ed25519 seeds that sign audit checkpoints; one primary signs new ones
PRIMARY = "primary"
ACTIVE = "active"
RETIRED = "retired"
MAC_KEY_ID = "mac"  # fixed, so two concurrent initializations collide on the primary key
_DATA_KEY_ID = re.compile(r"dk_[0-9a-f]{12}\Z")
_SIGNING_KEY_ID = re.compile(r"sig_[0-9a-f]{12}\Z")

# Domain separation: the associated data of each use starts with its own label.
_WRAP_AD = b"hub-keyring-v1\x00"
_SEAL_AD = b"hub-seal-v1\x00"
_FINGERPRINT_PERSON = b"hub-fingerprint"  # BLAKE2b personalisation: at most 16 bytes
_PEPPER_PERSON = b"hub-api-pepper"
_ROW_MAC_PERSON = b"hub-row-mac"  # MACs over the fields of a row that decide where plaintext goes
_MISMATCH = ("The root key does not open the keyring stored in this database. Set HUB_ROOT_KEY or "
             "the root.key file to the key this database was created with; a new key is never made "
             "over existing data.")


def _wrap_ad(entry_id: str, purpose: str) -> bytes:
    return _WRAP_AD + entry_id.encode() + b"\x00" + purpose.encode()


def _wrap(root_key: bytes, entry_id: str, purpose: str, key: bytes) -> bytes:
    """nonce || XChaCha20-Poly1305(key), bound to the entry's id and purpose."""
    nonce = nacl.utils.random(_NONCE_BYTES)
    return nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        key, _wrap_ad(entry_id, purpose), nonce, root_key)


def _unwrap(root_key: bytes, entry_id: str, purpose: str, wrapped: bytes) -> bytes:
    """The key of an entry; RootKeyMismatch when the root key does not open it."""
    wrapped = bytes(wrapped)  # PostgreSQL hands back a memoryview
    if len(wrapped) != _NONCE_BYTES + _KEY_BYTES + _TAG_BYTES:
        raise KeyRingCorrupt(f"Keyring entry {entry_id} has a wrapped key of the wrong length.")
    try:
        key = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[_NONCE_BYTES:], _wrap_ad(entry_id, purpose), wrapped[:_NONCE_BYTES], root_key)
    except nacl.exceptions.CryptoError:
        raise RootKeyMismatch(f"{_MISMATCH} (Keyring entry {entry_id} does not open.)") from None
    return key


def _new_data_key_id() -> str:
    return "dk_" + secrets.token_hex(6)


def _subkey(mac_key: bytes, person: bytes) -> bytes:
    return nacl.hash.blake2b(b"hub-subkey-v1", digest_size=32, key=mac_key, person=person,
                             encoder=nacl.encoding.RawEncoder)


def _lock_keyring() -> None:
    """Inside a transaction: take the keyring's write lock by touching the mac row.

    A no-op UPDATE is a row lock on PostgreSQL (a concurrent rotate waits, then sees this one's
    primary) and the database write lock on SQLite, so keyring changes are serialised on both.
    """
    touched = (KeyringEntry.update(state=KeyringEntry.state)
               .where(KeyringEntry.id == MAC_KEY_ID).execute())
    if not touched:
        raise KeyRingMissing("The database holds no keyring (no mac key). Run 'hub init' first.")


class Sealed(NamedTuple):
    """A sealed record: the id of the data key that sealed it, and nonce || ciphertext."""

    key_id: str
    ciphertext: bytes

    def __repr__(self):
        return f"Sealed(key_id={self.key_id!r}, ciphertext=<{len(self.ciphertext)} bytes>)"


class _Keys:
    """One immutable snapshot of the unwrapped keyring; replaced whole on reload."""

    __slots__ = ("primary_id", "data", "fingerprint_key", "pepper", "row_mac_key", "signing",
                 "signing_primary")

    def __init__(self, primary_id: str, data: dict[str, bytes], mac_key: bytes,
                 signing: dict[str, nacl.signing.SigningKey] | None = None,
                 signing_primary: str | None = None):
        self.primary_id = primary_id
        self.data = data
        self.signing = signing or {}
        self.signing_primary = signing_primary
        self.fingerprint_key = _subkey(mac_key, _FINGERPRINT_PERSON)
        self.pepper = _subkey(mac_key, _PEPPER_PERSON)
        self.row_mac_key = _subkey(mac_key, _ROW_MAC_PERSON)

    def __repr__(self):
        return f"<keys primary={self.primary_id} data={sorted(self.data)}>"


def _read_keys(root_key: bytes) -> _Keys:
    """Load and unwrap every keyring entry in one query (one consistent snapshot)."""
    rows = list(KeyringEntry.select(KeyringEntry.id, KeyringEntry.purpose, KeyringEntry.state,
                                    KeyringEntry.wrapped).tuples())
    if not rows:
        raise KeyRingMissing("The database holds no keyring yet. Run 'hub init' to create one.")
    mac_key = None
    primaries = []
    data = {}
    signing, signing_primary = {}, None
    for entry_id, purpose, state, wrapped in rows:
        key = _unwrap(root_key, entry_id, purpose, wrapped)
        if purpose == MAC and entry_id == MAC_KEY_ID:
            mac_key = key
        elif purpose == DATA:
            # Retired keys are loaded too: "retired" means nothing is known to need them, and a
            # seal racing with a rotation may still have used one a moment before.
            data[entry_id] = key
            if state == PRIMARY:
                primaries.append(entry_id)
        elif purpose == SIGNING:
            signing[entry_id] = nacl.signing.SigningKey(key)
            if state == PRIMARY:
                signing_primary = entry_id
    if mac_key is None:
        raise KeyRingCorrupt("The keyring has no mac key. Restore the database's keyring table "
                             "from a backup; a new key is never made over existing data.")
    if len(primaries) != 1:
        raise KeyRingCorrupt(f"The keyring has {len(primaries)} primary data keys instead of one. "
                             "Restore the keyring table from a backup, or mark one primary.")
    return _Keys(primaries[0], data, mac_key, signing, signing_primary)


class KeyRing:
    """The unwrapped keyring of one database, shared by the threads of a process.

    Obtain one with `KeyRing.load(root_key)` (an existing keyring) or `KeyRing.initialize(root_key)`
    (creates one if the database has none). Reloads itself when another process rotates.
    """

    def __init__(self, root_key: bytes, keys: _Keys):
        self._root_key = _check_root_key(root_key)
        self._keys = keys
        self._reload_lock = threading.Lock()
        self._verified_rows: dict[str, set] = {}

    def __repr__(self):
        keys = self._keys
        return f"<KeyRing primary={keys.primary_id} data_keys={sorted(keys.data)}>"

    # Pickling would copy key material somewhere unknown.
    def __reduce__(self):
        raise TypeError("A KeyRing holds key material and cannot be pickled.")

    @classmethod
    def load(cls, root_key: bytes) -> "KeyRing":
        """The keyring stored in the database. Raises KeyRingMissing (none stored), RootKeyMismatch
        (the root key does not open it) or KeyRingCorrupt. Never writes."""
        root_key = _check_root_key(root_key)
        return cls(root_key, _read_keys(root_key))

    @classmethod
    def initialize(cls, root_key: bytes) -> "KeyRing":
        """Create the keyring (a primary data key and the mac key) if the database has none, then
        load it. Concurrent calls yield one keyring: the database settles it on the mac key's fixed
        id. Over an existing keyring this is `load` (and so raises RootKeyMismatch for a wrong key).
        """
        root_key = _check_root_key(root_key)
        if not KeyringEntry.select().exists():
            now = utcnow()
            data_id = _new_data_key_id()
            try:
                with database.atomic():
                    # The mac row first: a write before any read, so a concurrent initialize blocks
                    # here (or fails on the primary key) instead of both reading an empty table.
                    KeyringEntry.insert(
                        id=MAC_KEY_ID, purpose=MAC, state=ACTIVE, created_at=now, state_changed_at=now,
                        wrapped=_wrap(root_key, MAC_KEY_ID, MAC, nacl.utils.random(_KEY_BYTES)),
                    ).execute()
                    if KeyringEntry.select().where(KeyringEntry.id != MAC_KEY_ID).exists():
                        raise _NotEmpty  # data keys without a mac key: never build over them
                    KeyringEntry.insert(
                        id=data_id, purpose=DATA, state=PRIMARY, created_at=now, state_changed_at=now,
                        wrapped=_wrap(root_key, data_id, DATA, nacl.utils.random(_KEY_BYTES)),
                    ).execute()
            except (IntegrityError, _NotEmpty):
                pass  # another process made the keyring a moment ago, or one is there: load it
        keyring = cls.load(root_key)
        keyring.ensure_signing_key()
        return keyring

    # --- sealing ----------------------------------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> Sealed:
        """Encrypt under the current primary data key, with a fresh random 24-byte nonce."""
        _require_bytes(plaintext=plaintext, aad=aad)
        keys = self._keys
        current = self._primary_id_in_database()
        if current != keys.primary_id:
            keys = self._reload(lambda k: k.primary_id == current)
        key_id = keys.primary_id
        nonce = nacl.utils.random(_NONCE_BYTES)
        ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            bytes(plaintext), _seal_ad(key_id, aad), nonce, keys.data[key_id])
        return Sealed(key_id, nonce + ciphertext)

    def open_sealed(self, key_id: str, ciphertext: bytes, aad: bytes) -> bytes:
        """The plaintext of a sealed record; DecryptionFailed (naming the key id) on any failure."""
        _require_bytes(ciphertext=ciphertext, aad=aad)
        key_id = str(key_id)
        keys = self._keys
        if key_id not in keys.data and _DATA_KEY_ID.match(key_id):
            keys = self._reload(lambda k: key_id in k.data)  # made by a rotation elsewhere
        key = keys.data.get(key_id)
        if key is None:
            raise DecryptionFailed(f"Cannot open a record sealed with data key {key_id}: the keyring "
                                   "has no such key.")
        ciphertext = bytes(ciphertext)
        if len(ciphertext) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionFailed(f"Cannot open a record sealed with data key {key_id}: the "
                                   "ciphertext is truncated.")
        try:
            return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                ciphertext[_NONCE_BYTES:], _seal_ad(key_id, aad), ciphertext[:_NONCE_BYTES], key)
        except nacl.exceptions.CryptoError:
            raise DecryptionFailed(f"Cannot open a record sealed with data key {key_id}: the "
                                   "ciphertext was altered or belongs to another record "
                                   "(associated data differs).") from None

    # --- keyed hashes (the mac key; stable across data-key rotations) ---------------------------

    def fingerprint(self, data: bytes) -> str:
        """Keyed BLAKE2b of `data` (hex, 64 chars): detects changes without revealing content."""
        _require_bytes(data=data)
        # hashlib's keyed BLAKE2b is PyNaCl's (libsodium's) function, at a tenth of the call cost.
        return hashlib.blake2b(bytes(data), digest_size=32, key=self._keys.fingerprint_key).hexdigest()

    def hash_api_key_secret(self, secret: str) -> str:
        """Keyed BLAKE2b of an API key secret under the pepper (hex, 64 chars): what is stored."""
        if not isinstance(secret, str):
            raise TypeError("secret must be str")
        # On every authenticated request: hashlib's keyed BLAKE2b, the same function as PyNaCl's.
        return hashlib.blake2b(secret.encode("utf-8"), digest_size=32, key=self._keys.pepper).hexdigest()

    def row_mac(self, kind: str, message: bytes) -> str:
        """Keyed BLAKE2b (hex, 64 chars) of a row's canonical bound fields, domain-separated by
        `kind` (the table): what `hub.crypto.row_binding` stores beside a row and checks on use.
        Under the mac key, which no data-key rotation changes, so rewrap and rotate leave it valid."""
        _require_bytes(message=message)
        # hashlib's keyed BLAKE2b is the same function as PyNaCl's, at a tenth of the call cost.
        return hashlib.blake2b(kind.encode() + b"\x00" + bytes(message), digest_size=32,
                               key=self._keys.row_mac_key).hexdigest()

    def verified_rows(self, kind: str) -> set:
        """Rows of `kind` whose MAC verified under this keyring, as their checker keys them (every
        bound value and the stored MAC): a MAC is a function of the row and the mac key alone,
        which never rotates, so the same values with the same MAC verify again. For checks that
        run on every request (`hub.tenancy.key_integrity`); the rows are still read each time,
        only the hashing is spared. Emptied when it grows past a few thousand rows."""
        rows = self._verified_rows.get(kind)
        if rows is None or len(rows) >= _VERIFIED_ROWS_MAX:
            rows = self._verified_rows[kind] = set()
        return rows

    # --- signing (audit checkpoints) -------------------------------------------------------------

    def sign(self, message: bytes) -> tuple[str, bytes]:
        """(key id, Ed25519 signature of `message`) under the primary signing key."""
        _require_bytes(message=message)
        keys = self._keys
        if keys.signing_primary is None:
            keys = self._reload(lambda k: k.signing_primary is not None)  # made elsewhere?
        if keys.signing_primary is None:
            raise KeyRingCorrupt("The keyring has no signing key for audit checkpoints. Run 'hub db "
                                 "upgrade' (it adds one to a keyring made before the audit log).")
        key_id = keys.signing_primary
        return key_id, keys.signing[key_id].sign(bytes(message)).signature

    def verify_keys(self) -> dict[str, bytes]:
        """Every signing key's id and raw 32-byte Ed25519 public key (read only)."""
        return {key_id: bytes(key.verify_key) for key_id, key in sorted(self._keys.signing.items())}

    def signing_key_id(self) -> str | None:
        """The id of the key that signs new checkpoints, or None before `ensure_signing_key`."""
        return self._keys.signing_primary

    def ensure_signing_key(self) -> None:
        """Give a keyring made before the audit log its Ed25519 signing key, in a transaction of its
        own (never inside another: a key cached from a transaction that then rolled back would sign
        checkpoints no one could verify). A no-op when it has one."""
        if self._keys.signing_primary is not None:
            return
        if database.in_transaction():
            raise RuntimeError("ensure_signing_key must run outside any transaction")
        self._ensure_signing_key()

    def _ensure_signing_key(self) -> _Keys:
        new_id = "sig_" + secrets.token_hex(6)
        with database.atomic():
            _lock_keyring()  # a concurrent first use waits here, then finds the other's key
            exists = (KeyringEntry.select().where((KeyringEntry.purpose == SIGNING)
                                                  & (KeyringEntry.state == PRIMARY)).exists())
            if not exists:
                self._check_root_key_still_opens()
                now = utcnow()
                KeyringEntry.insert(id=new_id, purpose=SIGNING, state=PRIMARY, created_at=now,
                                    state_changed_at=now,
                                    wrapped=_wrap(self._root_key, new_id, SIGNING,
                                                  nacl.utils.random(_KEY_BYTES))).execute()
        return self._reload(lambda k: k.signing_primary is not None)

    # --- administration ---------------------------------------------------------------------------

    def rotate(self) -> str:
        """Make a new data key primary (the previous primary becomes active) in one transaction.
        Every process seals with it from its next seal on. Returns the new key's id."""
        new_id = _new_data_key_id()
        wrapped = _wrap(self._root_key, new_id, DATA, nacl.utils.random(_KEY_BYTES))
        with database.atomic():
            _lock_keyring()
            self._check_root_key_still_opens()
            now = utcnow()
            (KeyringEntry.update(state=ACTIVE, state_changed_at=now)
             .where((KeyringEntry.purpose == DATA) & (KeyringEntry.state == PRIMARY)).execute())
            KeyringEntry.insert(id=new_id, purpose=DATA, state=PRIMARY, wrapped=wrapped,
                                created_at=now, state_changed_at=now).execute()
        self._reload(lambda k: new_id in k.data)
        return new_id

    def status(self) -> list[dict]:
        """Every data key, oldest first: {id, state, created_at, state_changed_at, ciphertexts},
        where `ciphertexts` counts the sealed columns (models.SEALED_COLUMNS) it still protects."""
        counts: dict[str, int] = {}
        for model, prefix in models.SEALED_COLUMNS:
            key_column = getattr(model, f"{prefix}_key_id")
            ciphertext_column = getattr(model, f"{prefix}_ciphertext")
            query = (model.select(key_column, fn.COUNT(key_column))
                     .where(key_column.is_null(False) & ciphertext_column.is_null(False))
                     .group_by(key_column).tuples())
            for key_id, count in query:
                counts[key_id] = counts.get(key_id, 0) + count
        rows = (KeyringEntry.select(KeyringEntry.id, KeyringEntry.state, KeyringEntry.created_at,
                                    KeyringEntry.state_changed_at)
                .where(KeyringEntry.purpose == DATA)
                .order_by(KeyringEntry.created_at, KeyringEntry.id).tuples())
        return [{"id": key_id, "state": state, "created_at": created_at,
                 "state_changed_at": state_changed_at, "ciphertexts": counts.get(key_id, 0)}
                for key_id, state, created_at, state_changed_at in rows]

    def primary_id(self) -> str:
        """The id of the primary data key in the database now (one indexed query)."""
        return self._primary_id_in_database()

    def seal_many(self, records) -> list[Sealed]:
        """`seal` for each `(plaintext, aad)`, under the primary data key read once for them all
        (bulk imports; `seal` reads it per call)."""
        keys = self._keys
        primary = self._primary_id_in_database()
        if primary != keys.primary_id:
            keys = self._reload(lambda k: k.primary_id == primary)
        key, prefix = keys.data[primary], _SEAL_AD + primary.encode() + b"\x00"
        out = []
        for plaintext, aad in records:
            _require_bytes(plaintext=plaintext, aad=aad)
            nonce = nacl.utils.random(_NONCE_BYTES)
            out.append(Sealed(primary, nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
                bytes(plaintext), prefix + bytes(aad), nonce, key)))
        return out

    def reseal_many(self, records) -> tuple[str, list[bytes | None]]:
        """Open each `(key_id, ciphertext, aad)` and seal its plaintext again under the primary data
        key, read once for the whole batch (`seal` reads it per call). Returns the primary's id and,
        per record, its new nonce || ciphertext, or None for a record that does not open (an
        unknown key, altered bytes, other associated data). The plaintexts never leave this call.

        A rotation while the batch runs is not followed: the records land on the key that was
        primary when it began (still active, so they open); `hub crypto rewrap` walks again.
        """
        keys = self._keys
        primary = self._primary_id_in_database()
        if primary != keys.primary_id:
            keys = self._reload(lambda k: k.primary_id == primary)
        data = keys.data
        target = data[primary]
        encrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt
        decrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt
        random = nacl.utils.random
        primary_ad = _SEAL_AD + primary.encode() + b"\x00"
        out: list[bytes | None] = []
        for key_id, ciphertext, aad in records:
            key_id = str(key_id)
            key = data.get(key_id)
            if key is None and _DATA_KEY_ID.match(key_id):
                keys = self._reload(lambda k, wanted=key_id: wanted in k.data)  # rotated elsewhere
                data = keys.data
                key = data.get(key_id)
            ciphertext = bytes(ciphertext)
            if key is None or len(ciphertext) < _NONCE_BYTES + _TAG_BYTES:
                out.append(None)
                continue
            aad = bytes(aad)
            try:
                plaintext = decrypt(ciphertext[_NONCE_BYTES:], _seal_ad(key_id, aad),
                                    ciphertext[:_NONCE_BYTES], key)
            except nacl.exceptions.CryptoError:
                out.append(None)
                continue
            nonce = random(_NONCE_BYTES)
            out.append(nonce + encrypt(plaintext, primary_ad + aad, nonce, target))
        return primary, out

    def ciphertexts_under(self, key_id: str) -> int:
        """How many sealed columns (models.SEALED_COLUMNS) the data key `key_id` still protects."""
        total = 0
        for model, prefix in models.SEALED_COLUMNS:
            key_column = getattr(model, f"{prefix}_key_id")
            ciphertext_column = getattr(model, f"{prefix}_ciphertext")
            total += (model.select().where((key_column == key_id) & ciphertext_column.is_null(False))
                      .count())
        return total

    def retire(self, key_id: str, *, in_transaction=None) -> bool:
        """Mark the data key `key_id` retired, in one transaction under the keyring's lock: refused
        (Conflict) for the primary or a key that still protects a ciphertext, NotFound for no such
        data key. Returns False (and changes nothing) when it is retired already.

        `in_transaction()` runs inside the same transaction once the change is made (its audit
        event). Must not run inside another transaction: the check and the change commit together.
        """
        if database.in_transaction():
            raise RuntimeError("retire must run outside any transaction")
        with database.atomic():
            _lock_keyring()
            self._check_root_key_still_opens()
            row = (KeyringEntry.select(KeyringEntry.purpose, KeyringEntry.state)
                   .where(KeyringEntry.id == key_id).tuples().first())
            if row is None or row[0] != DATA:
                raise NotFound(f"The keyring has no data key {key_id}: 'hub crypto status' lists "
                               "them.")
            state = row[1]
            if state == RETIRED:
                return False
            if state == PRIMARY:
                raise Conflict(f"Data key {key_id} is the primary: it seals every new record. Make "
                               "a new primary with 'hub crypto rotate', then 'hub crypto rewrap', "
                               "and retire this one after.")
            count = self.ciphertexts_under(key_id)
            if count:
                raise Conflict(f"Data key {key_id} still protects {count} ciphertext"
                               f"{'' if count == 1 else 's'}: run 'hub crypto rewrap' first "
                               "('hub crypto status' shows the counts).")
            (KeyringEntry.update(state=RETIRED, state_changed_at=utcnow())
             .where(KeyringEntry.id == key_id).execute())
            if in_transaction is not None:
                in_transaction()
        return True

    def rewrap_keyring(self, new_root_key: bytes, *, in_transaction=None) -> int:
        """Re-encrypt every keyring entry under `new_root_key`, in one transaction under the
        keyring's lock, after checking that this keyring's root key still opens the stored one
        (RootKeyMismatch if another process changed it). Returns the number of entries.

        `in_transaction(count)` runs inside the transaction after the entries are rewritten and
        before the commit: the audit events, and making the new key durable (its file, or printing
        it), so that no committed keyring is ever without a saved key. Afterwards this object uses
        the new root key. Other running processes keep their unwrapped keys but fail
        (RootKeyMismatch) on their next reload: restart them with the new key. Must not run inside
        another transaction (this object adopts the new key only once it is committed).
        """
        new_root_key = _check_root_key(new_root_key)
        if new_root_key == self._root_key:
            raise ValueError("the new root key is the current one")
        if database.in_transaction():
            raise RuntimeError("rewrap_keyring must run outside any transaction")
        with database.atomic():
            _lock_keyring()
            self._check_root_key_still_opens()
            rows = list(KeyringEntry.select(KeyringEntry.id, KeyringEntry.purpose,
                                            KeyringEntry.wrapped).tuples())
            for entry_id, purpose, wrapped in rows:
                key = _unwrap(self._root_key, entry_id, purpose, wrapped)
                changed = (KeyringEntry.update(wrapped=_wrap(new_root_key, entry_id, purpose, key))
                           .where((KeyringEntry.id == entry_id)
                                  & (KeyringEntry.purpose == purpose)).execute())
                if changed != 1:
                    raise KeyRingCorrupt(f"Keyring entry {entry_id} changed during the rotation.")
            # The rewritten keyring must open with the new key before anything is committed.
            _read_keys(new_root_key)
            if in_transaction is not None:
                in_transaction(len(rows))
        self._root_key = new_root_key
        return len(rows)

    # --- internals --------------------------------------------------------------------------------

    def _primary_id_in_database(self) -> str:
        ids = list(KeyringEntry.select(KeyringEntry.id)
                   .where((KeyringEntry.purpose == DATA) & (KeyringEntry.state == PRIMARY))
                   .limit(2).tuples())
        if len(ids) != 1:
            if not ids and not KeyringEntry.select().exists():
                raise KeyRingMissing("The database holds no keyring any more. Restore it from a "
                                     "backup; sealed records cannot be opened without it.")
            raise KeyRingCorrupt(f"The keyring has {len(ids)} primary data keys instead of one.")
        return ids[0][0]

    def _reload(self, satisfied) -> _Keys:
        """Reload the keyring unless another thread already has a snapshot that `satisfied`."""
        with self._reload_lock:
            keys = self._keys
            if not satisfied(keys):
                keys = _read_keys(self._root_key)
                self._keys = keys
                metrics.count_keyring_reload()
            return keys

    def _check_root_key_still_opens(self) -> None:
        wrapped = (KeyringEntry.select(KeyringEntry.wrapped)
                   .where(KeyringEntry.id == MAC_KEY_ID).scalar())
        _unwrap(self._root_key, MAC_KEY_ID, MAC, wrapped)


class _NotEmpty(Exception):
    pass


def _seal_ad(key_id: str, aad: bytes) -> bytes:
    return _SEAL_AD + key_id.encode() + b"\x00" + bytes(aad)


def _require_bytes(**values) -> None:
    for name, value in values.items():
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
