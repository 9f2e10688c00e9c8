"""The root key: 32 bytes from HUB_ROOT_KEY or the instance folder's root.key (mode 0600, never overwritten). It never enters the database; it encrypts only the keyring."""
from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

import nacl.bindings
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.utils

from hub.errors import RootKeyError

ROOT_KEY_BYTES = 32


def _decode_root_key(text: str, where: str) -> bytes:
    """32 bytes from base64 text (standard or URL-safe alphabet). Never echoes the value."""
    what_to_do = (f"Fix {where}: it must hold the base64 of exactly {ROOT_KEY_BYTES} bytes (the key "
                  "this database was created with; a new one can be made with "
                  "`python -c \"import base64, os; print(base64.b64encode(os.urandom(32)).decode())\"` "
                  "for a new hub only).")
    if not isinstance(text, str):
        raise RootKeyError(f"The root key in {where} is not text. {what_to_do}")
    value = "".join(text.split())
    if not value:
        raise RootKeyError(f"The root key in {where} is empty. {what_to_do}")
    value = value.replace("-", "+").replace("_", "/")  # URL-safe alphabet too
    value += "=" * (-len(value) % 4)  # and missing padding
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise RootKeyError(f"The root key in {where} is not valid base64. {what_to_do}") from None
    if len(key) != ROOT_KEY_BYTES:
        raise RootKeyError(f"The root key in {where} decodes to {len(key)} bytes, not "
                           f"{ROOT_KEY_BYTES}. {what_to_do}")
    return key


def load_root_key(root_key_b64: str | None, key_file: Path) -> bytes | None:
    """The root key: the configured value (HUB_ROOT_KEY) if set, else the key file, else None.

    Raises RootKeyError, naming where the key came from, when it is malformed or unreadable.
    """
    if root_key_b64 is not None:
        return _decode_root_key(root_key_b64, "HUB_ROOT_KEY (the ROOT_KEY setting)")
    path = Path(key_file)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise RootKeyError(f"The root key file {path} cannot be read ({reason}). Make it readable by "
                           "the hub's user, or set HUB_ROOT_KEY instead.") from None
    return _decode_root_key(text, f"the root key file {path}")


def create_root_key_file(path: Path) -> bytes:
    """A new random root key, written as base64 to a new file of mode 0600. Never overwrites."""
    key = new_root_key()
    write_root_key_file(path, key)
    return key


def new_root_key() -> bytes:
    return nacl.utils.random(ROOT_KEY_BYTES)


def write_root_key_file(path: Path, key: bytes) -> None:
    """Write `key` as base64 to a new file of mode 0600, synced to disk with its folder entry
    before returning (a keyring committed next must never outlive its key file). Never overwrites:
    RootKeyError if the file exists."""
    key = _check_root_key(key)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise RootKeyError(f"The root key file {path} already exists; refusing to overwrite it. Use "
                           "it (it holds the key of the data already encrypted), or move it away "
                           "first if it really belongs to no database.") from None
    except OSError as exc:
        raise RootKeyError(f"Cannot create the root key file {path} ({exc.strerror}).") from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, base64.b64encode(key) + b"\n")
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    _fsync_directory(path.parent)


def encode_root_key(key: bytes) -> str:
    """The base64 form HUB_ROOT_KEY and the key file take."""
    return base64.b64encode(_check_root_key(key)).decode("ascii")


# --- replacing the key file (`hub crypto rotate-root`) -------------------------------------------
# The new key is written to `root.key.new` (synced) before the keyring rewrapped under it commits;
# after the commit the old file is kept as `root.key.old-<UTC time>` (a hard link, so `root.key`
# never goes missing) and `root.key.new` atomically replaces `root.key`. A crash at any point
# leaves a saved key that opens the keyring: before the commit `root.key`, after it `root.key.new`
# (which the hub names on start, and which `hub crypto rotate-root` installs when run again).

def pending_root_key_path(path: Path) -> Path:
    """Where `hub crypto rotate-root` writes the new root key before committing the keyring."""
    path = Path(path)
    return path.with_name(path.name + ".new")


def install_pending_root_key_file(path: Path) -> Path | None:
    """Make `root.key.new` the root key file, keeping the old one as `root.key.old-<UTC time>`
    (returned; None when there was no old file). Each step is atomic and synced."""
    import datetime

    path = Path(path)
    pending = pending_root_key_path(path)
    kept = None
    if path.exists():
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 1000):
            kept = path.with_name(f"{path.name}.old-{stamp}" + (f".{n}" if n > 1 else ""))
            try:
                os.link(path, kept)
                break
            except FileExistsError:
                continue
        else:
            raise RootKeyError(f"Cannot keep the old root key beside {path}: too many old key files.")
        _fsync_directory(path.parent)
    os.replace(pending, path)
    _fsync_directory(path.parent)
    return kept


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_root_key(root_key) -> bytes:
    if not isinstance(root_key, (bytes, bytearray)) or len(root_key) != ROOT_KEY_BYTES:
        raise RootKeyError(f"The root key must be {ROOT_KEY_BYTES} bytes (see load_root_key).")
    return bytes(root_key)
