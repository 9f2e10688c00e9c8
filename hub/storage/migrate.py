"""Versioned schema migrations: numbered scripts in hub/storage/migrations/, applied in order and recorded
in the `schema_migration` table. Every schema change ships as a new script.

One process migrates at a time (several `hub init` or `hub db upgrade` started together, or servers
starting at once): on PostgreSQL a session advisory lock, on SQLite an exclusive `flock` of the
database's folder (not of the file, whose POSIX locks SQLite owns). The waiting ones then find
nothing left to do, rather than racing the same DDL and failing half-way.

A migration that must re-seal or MAC existing rows asks for the keyring with `migration_keyring()`:
`upgrade(db, keyring=...)` is given a function that opens it (the CLI's, from the root key), called
only when such a migration finds rows to rewrite, so a new database needs no key to be migrated."""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable
from pathlib import Path

import peewee
from playhouse.migrations import Runner

from hub.errors import KeyringUnavailable
from hub.storage.database import is_sqlite, sqlite_path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_LOCK_ID = 0x6875625F6D6967  # "hub_mig": one advisory lock id for the hub's migrations
_held = threading.local()  # id(db) -> depth, for this thread

_keyring_source: contextvars.ContextVar[Callable | None] = contextvars.ContextVar(
    "hub_migration_keyring", default=None)


def _runner(db: peewee.Database) -> Runner:
    return Runner(db, directory=str(MIGRATIONS_DIR))


def pending(db: peewee.Database) -> list[str]:
    return [m.name for m in _runner(db).status() if m.path is not None and not m.applied]


@contextlib.contextmanager
def exclusive(db: peewee.Database):
    """Hold the hub's migration lock for the block (re-entrant in one connection). Call it inside
    a connection context: the PostgreSQL lock belongs to the session."""
    depths = _held.__dict__.setdefault("depths", {})
    depth = depths.get(id(db), 0)
    release = _acquire(db) if depth == 0 else None
    depths[id(db)] = depth + 1
    try:
        yield
    finally:
        depths[id(db)] = depth
        if release is not None:
            release()


def _acquire(db: peewee.Database):
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_lock(%s)", (_PG_LOCK_ID,))
        return lambda: _unlock_pg(db)
    path = sqlite_path(db)
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own write lock is all there is
        fcntl = None
    if path is None or fcntl is None:  # in memory: one connection, nothing to race
        return lambda: None
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return lambda: os.close(fd)  # closing the descriptor releases the lock


def _unlock_pg(db: peewee.Database) -> None:
    with contextlib.suppress(peewee.DatabaseError, peewee.InterfaceError):  # a dead session holds nothing
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (_PG_LOCK_ID,))


def migration_keyring():
    """The keyring, for a migration that rewrites sealed or MACed rows; KeyringUnavailable when
    `upgrade` was given no way to open it."""
    source = _keyring_source.get()
    if source is None:
        raise KeyringUnavailable(
            "This schema upgrade re-seals stored secrets and signs stored rows, so it needs the "
            "root key: run 'hub db upgrade' (or 'hub init') where HUB_ROOT_KEY or the instance's "
            "root.key is available.")
    return source()


def upgrade(db: peewee.Database, keyring: Callable | None = None) -> list[str]:
    """Apply pending migrations; returns their names (empty when up to date, so it is safe twice).

    :param keyring: a function returning the hub's KeyRing, for migrations that rewrite rows.
    """
    token = _keyring_source.set(_once(keyring) if keyring is not None else None)
    try:
        with db.connection_context():
            with exclusive(db):
                return _runner(db).up()
    finally:
        _keyring_source.reset(token)


def _once(opener: Callable) -> Callable:
    opened = []

    def get():
        if not opened:
            opened.append(opener())
        return opened[0]

    return get
