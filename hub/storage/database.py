"""Opening the database, binding it to its app, and a connection per request.

Each app has its own database (`app.extensions["hub.db"]`), bound for the models whenever one of
that app's contexts is active; nothing is bound process-wide, so two apps in one process (a test
suite, a tool serving two instances) each read their own tables.

SQLite (the default, in the instance folder) runs with WAL, foreign keys and a busy timeout, and
every transaction begins IMMEDIATE: a read-then-write takes the write lock up front, so two
requests cannot both read the old state and then both write. PostgreSQL comes through a
`postgresql://` URL, with a connection pool.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect as connect_url

from hub.errors import DatabaseUnavailable, Unavailable


def open_database(url: str | None, instance_path: str | Path, busy_timeout: float = 10) -> peewee.Database:
    """A peewee database for a URL (None: SQLite in the instance folder). Does not connect yet."""
    if not url:
        url = f"sqlite:///{Path(instance_path) / 'hub.db'}"
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Owner-only: it holds ciphertexts and key hashes (SQLite gives -wal/-shm the same mode).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        return peewee.SqliteDatabase(
            path,
            timeout=busy_timeout,
            lock_type="IMMEDIATE",
            # secure_delete: deleted rows (ciphertexts among them) are zeroed, not left in free pages.
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal",
                     "busy_timeout": int(busy_timeout * 1000), "secure_delete": 1},
        )
    if scheme in ("postgres", "postgresql"):
        # Pooled: a request borrows a connection and gives it back on teardown.
        pooled = url.replace(f"{scheme}://", "postgresql+pool://", 1)
        return connect_url(pooled, max_connections=32, stale_timeout=300)
    raise DatabaseUnavailable(
        f"HUB_DATABASE_URL has an unsupported scheme {scheme!r}: use sqlite:///PATH or postgresql://...")


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(db, peewee.SqliteDatabase)


def init_app(app) -> None:
    db = open_database(app.config["DATABASE_URL"], app.config["INSTANCE_PATH"],
                       app.config["SQLITE_BUSY_TIMEOUT"])
    app.extensions["hub.db"] = db

    @app.before_request
    def _connect():
        try:
            db.connect(reuse_if_open=True)
        except peewee.OperationalError:
            raise Unavailable("The database does not answer. Check HUB_DATABASE_URL and that the "
                              "database server is up; /healthz answers 200 once it is back.") from None

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()
