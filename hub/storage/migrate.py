"""Versioned schema migrations: numbered scripts in hub/storage/migrations/, applied in order and recorded
in the `schema_migration` table. Every schema change ships as a new script."""
from __future__ import annotations

from pathlib import Path

import peewee
from playhouse.migrations import Runner

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _runner(db: peewee.Database) -> Runner:
    return Runner(db, directory=str(MIGRATIONS_DIR))


def pending(db: peewee.Database) -> list[str]:
    return [m.name for m in _runner(db).status() if m.path is not None and not m.applied]


def upgrade(db: peewee.Database) -> list[str]:
    """Apply pending migrations; returns their names (empty when up to date, so it is safe twice)."""
    with db.connection_context():
        try:
            return _runner(db).up()
        except peewee.IntegrityError:
            # Another process applied the same migration between our read and our write: its
            # transaction won, ours rolled back. What is left to do is recomputed from the table.
            return _runner(db).up()
