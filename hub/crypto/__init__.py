"""Encryption at rest: the root key (`root_key`), the keyring and sealing (`keyring`), and finding
both for a configured hub (`access`).

May import `hub.storage` and `hub.errors` (and `operations`, which runs keyring changes as the
operator, also `hub.audit` and `hub.tenancy` to put them on record); nothing here puts plaintext
or key material in a repr or an exception message. Its errors live in `hub.errors` (the `CryptoError` branch) and are
re-exported here.
"""
from hub.crypto.keyring import ACTIVE, PRIMARY, RETIRED, KeyRing, Sealed
from hub.crypto.root_key import ROOT_KEY_BYTES, create_root_key_file, load_root_key
from hub.errors import (
                        CryptoError,
                        DecryptionFailed,
                        KeyRingCorrupt,
                        KeyRingMissing,
                        RootKeyError,
                        RootKeyMismatch,
)

__all__ = ["ACTIVE", "PRIMARY", "RETIRED", "ROOT_KEY_BYTES", "CryptoError", "DecryptionFailed",
           "KeyRing", "KeyRingCorrupt", "KeyRingMissing", "RootKeyError", "RootKeyMismatch",
           "Sealed", "create_root_key_file", "load_root_key"]
