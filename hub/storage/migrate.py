"""Versioned schema migrations: numbered scripts in hub/storage/migrations/, applied in order and recorded
in the `schema_migration` table. Every schema change ships as a new script.

A migration that must re-seal or MAC existing rows asks for the keyring with `migration_keyring()`:
`upgrade(db, keyring=...)` is given a function that opens it (the CLI's, from the root key), called
only when such a migration finds rows to rewrite, so a new database needs no key to be migrated."""
from __future__ import annotations

import contextvars
from collections.abc import Callable
from pathlib import Path

import peewee
from playhouse.migrations import Runner

from hub.errors import KeyringUnavailable

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_keyring_source: contextvars.ContextVar[Callable | None] = contextvars.ContextVar(
    "hub_migration_keyring", default=None)


def _runner(db: peewee.Database) -> Runner:
    return Runner(db, directory=str(MIGRATIONS_DIR))


def pending(db: peewee.Database) -> list[str]:
    return [m.name for m in _runner(db).status() if m.path is not None and not m.applied]


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
            try:
                return _runner(db).up()
            except peewee.IntegrityError:
                # Another process applied the same migration between our read and our write: its
                # transaction won, ours rolled back. What is left to do is recomputed from the table.
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
