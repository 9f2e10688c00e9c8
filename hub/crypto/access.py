"""Finding the root key and opening the keyring for a configured hub."""
from __future__ import annotations

import threading
from pathlib import Path

from hub.crypto.keyring import KeyRing
from hub.crypto.root_key import load_root_key, pending_root_key_path
from hub.errors import (
    CryptoError,
    KeyRingMissing,
    KeyringUnavailable,
    RootKeyError,
    RootKeyMismatch,
)
from hub.storage.models import bound


def root_key_path(config) -> Path:
    return Path(config["INSTANCE_PATH"]) / "root.key"


def root_key(config) -> bytes | None:
    return load_root_key(config.get("ROOT_KEY"), root_key_path(config))


def open_keyring(config) -> KeyRing:
    try:
        key = root_key(config)
    except RootKeyError as exc:
        raise KeyringUnavailable(str(exc)) from None
    if key is None:
        raise KeyringUnavailable(
            f"No root key: HUB_ROOT_KEY is not set and {root_key_path(config)} does not exist. "
            "Run 'hub init' for a new hub, or restore the root key this database was created with.")
    try:
        return KeyRing.load(key)
    except KeyRingMissing:
        raise KeyringUnavailable("The database has no keyring yet. Run 'hub init' first.") from None
    except RootKeyMismatch as exc:
        raise KeyringUnavailable(_mismatch(config, str(exc))) from None
    except CryptoError as exc:  # a damaged keyring
        raise KeyringUnavailable(str(exc)) from None


def pending_root_key_opens(config) -> bool:
    """Whether the key file of an interrupted `hub crypto rotate-root` (root.key.new) is there and
    opens the keyring (its rotation committed; the file was not installed yet). Only when the hub
    uses the key file."""
    if config.get("ROOT_KEY") is not None:
        return False
    try:
        key = load_root_key(None, pending_root_key_path(root_key_path(config)))
    except RootKeyError:
        return False
    return key is not None and opens(key)


def opens(root_key: bytes) -> bool:
    """Whether `root_key` opens the keyring stored in the database (read only)."""
    try:
        KeyRing.load(root_key)
    except RootKeyMismatch:
        return False
    return True


def _mismatch(config, message: str) -> str:
    path = root_key_path(config)
    if pending_root_key_opens(config):
        pending = pending_root_key_path(path)
        return (f"The root key file {path} does not open the keyring, but {pending} does: a 'hub "
                f"crypto rotate-root' was interrupted after its change was committed. Run 'hub "
                f"crypto rotate-root' again to finish it (it makes {pending.name} the root key file "
                f"and keeps the old key beside it), or by hand: mv {path} {path}.old && mv {pending} "
                f"{path}. Then start the hub.")
    if config.get("ROOT_KEY") is not None:
        return (f"{message} After 'hub crypto rotate-root', HUB_ROOT_KEY must be the new key it "
                "printed; the old key is refused.")
    return message


class LazyKeyRing:
    """Opens the keyring on first use, once per process, so the app factory needs no database.

    It opens it from its own app's database, whatever is bound where `get` is called.
    """

    def __init__(self, config, db):
        self._config = config
        self._db = db
        self._keyring = None
        self._lock = threading.Lock()

    def get(self):
        if self._keyring is None:
            with self._lock:
                if self._keyring is None:
                    opened = self._db.is_closed()  # a request's own connection stays open
                    try:
                        with bound(self._db):
                            keyring = open_keyring(self._config)
                            # A keyring from before the audit log gets its signing key (once).
                            keyring.ensure_signing_key()
                            self._keyring = keyring
                    finally:
                        if opened and not self._db.is_closed():
                            self._db.close()
        return self._keyring


def init_app(app) -> None:
    app.extensions["hub.keyring"] = LazyKeyRing(app.config, app.extensions["hub.db"])
