"""Finding the root key and opening the keyring for a configured hub."""
from __future__ import annotations

import threading
from pathlib import Path

from hub import crypto


class KeyringUnavailable(Exception):
    """The hub cannot open its keyring; the message says what to do."""


def root_key_path(config) -> Path:
    return Path(config["INSTANCE_PATH"]) / "root.key"


def root_key(config) -> bytes | None:
    return crypto.load_root_key(config.get("ROOT_KEY"), root_key_path(config))


def open_keyring(config) -> "crypto.KeyRing":
    try:
        key = root_key(config)
    except crypto.RootKeyError as exc:
        raise KeyringUnavailable(str(exc)) from None
    if key is None:
        raise KeyringUnavailable(
            f"No root key: HUB_ROOT_KEY is not set and {root_key_path(config)} does not exist. "
            "Run 'hub init' for a new hub, or restore the root key this database was created with.")
    try:
        return crypto.KeyRing.load(key)
    except crypto.KeyRingMissing:
        raise KeyringUnavailable("The database has no keyring yet. Run 'hub init' first.") from None
    except crypto.CryptoError as exc:  # wrong root key, a damaged keyring
        raise KeyringUnavailable(str(exc)) from None


class LazyKeyRing:
    """Opens the keyring on first use, once per process, so the app factory needs no database."""

    def __init__(self, config):
        self._config = config
        self._keyring = None
        self._lock = threading.Lock()

    def get(self):
        if self._keyring is None:
            with self._lock:
                if self._keyring is None:
                    self._keyring = open_keyring(self._config)
        return self._keyring


def init_app(app) -> None:
    app.extensions["hub.keyring"] = LazyKeyRing(app.config)
