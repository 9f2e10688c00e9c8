"""Opening the database, binding it to its app, and a connection for each request.

Each app has its own database (`app.extensions["hub.db"]`), bound for the models whenever one of
that app's contexts is active; nothing is bound process-wide, so two apps in one process (a test
suite, a tool serving two instances) each read their own tables.

SQLite (the default, in the instance folder) runs with WAL, foreign keys and a busy timeout, and
every transaction begins IMMEDIATE: a read-then-write takes the write lock up front, so two
requests cannot both read the old state and then both write; a serving thread keeps its SQLite
connection from one request to the next (`end_request`). PostgreSQL comes through a
`postgresql://` URL, with a connection pool whose connections time out rather than hang
(`PG_CONNECT_DEFAULTS`: a connect timeout, TCP keepalives and a TCP user timeout; the URL's query
string overrides each, e.g. `?connect_timeout=10`).

A database that goes away mid-flight is a `DATABASE_ERRORS` error anywhere in a request; the API
answers it as 503 (via `unavailable`) and `discard_broken` drops the dead connection rather than
give it back to the pool. The pool also tests an idle connection before lending it again (peewee
round-trips `SELECT 1`), so once the server answers again, requests succeed without a restart.

Nothing is created on disk when a database is opened: the SQLite file (mode 0600, with its folder)
is made on the first connection of a hub that writes a new instance (`create_sqlite_file`, which
`hub init` calls), so reading commands on a hub that was never set up say so instead of leaving an
empty database behind. `unavailable` turns what the drivers raise (no such table, no database, no
driver, no server) into one `DatabaseUnavailable` sentence saying what to do; the CLI and the API
share it.
"""
from __future__ import annotations

import contextlib
import gc
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import peewee
from playhouse.db_url import connect as connect_url
from playhouse.pool import MaxConnectionsExceeded, PooledDatabase

from hub.errors import DatabaseUnavailable


def open_database(url: str | None, instance_path: str | Path, busy_timeout: float = 10) -> peewee.Database:
    """A peewee database for a URL (None: SQLite in the instance folder). Does not connect yet."""
    if not url:
        url = f"sqlite:///{Path(instance_path) / 'hub.db'}"
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if not path:
            raise DatabaseUnavailable("HUB_DATABASE_URL names no SQLite file: use sqlite:///RELATIVE/PATH "
                                      "or sqlite:////ABSOLUTE/PATH, or unset it for instance/hub.db.")
        return HubSqliteDatabase(
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
        usage = "use postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        try:
            if not urlparse(url).path.strip("/"):
                raise DatabaseUnavailable(f"HUB_DATABASE_URL names no database: {usage}.")
            given = {key for key, _ in parse_qsl(urlparse(url).query, keep_blank_values=True)}
            defaults = {key: value for key, value in PG_CONNECT_DEFAULTS.items() if key not in given}
            return connect_url(pooled, max_connections=32, stale_timeout=300, **defaults)
        except ValueError:  # a port that is not a number ... (the URL may hold a password: not shown)
            raise DatabaseUnavailable(f"HUB_DATABASE_URL is not a usable PostgreSQL URL: {usage}.") from None
    raise DatabaseUnavailable(
        f"HUB_DATABASE_URL has an unsupported scheme {scheme!r}: use sqlite:///PATH or postgresql://...")


# libpq settings for every PostgreSQL connection unless the URL's query string sets them: a server
# that does not answer fails the connection in 3 s (libpq's minimum is 2), and a connection whose
# server or network went away is found dead by keepalives (idle: 5 s, then 2 probes 2 s apart) or
# by the TCP user timeout (data unacknowledged for 5 s) instead of waiting on it for the kernel's
# minutes. No statement_timeout here: it would cap `hub db upgrade` and `hub crypto rewrap` too,
# and PgBouncer refuses an `options` startup parameter it does not track; set one per role
# (`ALTER ROLE hub SET statement_timeout = '5s'`) if wanted (docs/deployment.md).
PG_CONNECT_DEFAULTS = {"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 5,
                       "keepalives_interval": 2, "keepalives_count": 2, "tcp_user_timeout": 5000}


class HubSqliteDatabase(peewee.SqliteDatabase):
    """SQLite whose file, when a connection has to make it, is owner-only from its first byte, and
    whose write transactions take turns within the process (`WriteTurns`)."""

    def _connect(self):
        create_sqlite_file(self)
        return super()._connect()

    def _turns(self) -> WriteTurns | None:
        if not hasattr(self, "_write_turns"):  # looked up once: realpath costs a stat per folder
            self._write_turns = write_turns(self.database)
        return self._write_turns

    def begin(self, lock_type=None):
        conn, turns = self._state.conn, self._turns()
        if turns is not None and conn is not None and not turns.take(conn, self._timeout):
            raise peewee.OperationalError("database is locked")  # as SQLite says it, for `unavailable`
        try:
            super().begin(lock_type)
        except BaseException:
            self.give_back_turn(conn)
            raise

    def commit(self):
        try:
            return super().commit()
        finally:
            self.give_back_turn(self._state.conn)

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self.give_back_turn(self._state.conn)

    def _close(self, conn):
        self.give_back_turn(conn)  # closed inside a transaction: that ended it
        super()._close(conn)

    def give_back_turn(self, conn) -> None:
        turns = self._turns()
        if turns is not None:
            turns.give_back(conn)


class WriteTurns:
    """The write transactions of this process's connections to one SQLite file, one at a time.

    SQLite settles writers itself (BEGIN IMMEDIATE, the busy timeout), but a writer that finds the
    lock taken sleeps in SQLite's busy handler in growing steps (up to 100 ms) however soon the lock
    is free: the 32 threads of a bulk verification slept there 29 ms per check on average, for
    transactions of about a millisecond. Here a writer waits for the process's current writer and
    is woken as it commits (2-7 ms per check). SQLite still settles it between processes and is still what
    makes it correct; a turn whose holder's thread died, or whose connection is no longer in a
    transaction (or closed), is taken over rather than waited for."""

    def __init__(self):
        self._changed = threading.Condition()
        self._holder: tuple | None = None  # (connection, its thread)

    def _held_by_other(self, conn) -> bool:
        if self._holder is None or self._holder[0] is conn:
            return False
        holder, thread = self._holder
        if thread is threading.current_thread() or not thread.is_alive():
            return False  # this thread's other connection: SQLite settles it, as without turns
        try:
            return holder.in_transaction  # False between its turn and its BEGIN: SQLite decides
        except sqlite3.ProgrammingError:  # closed
            return False

    def take(self, conn, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._held_by_other(conn):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))  # and look again: a holder may have died
            abandoned = self._holder is not None and not self._holder[1].is_alive()
            self._holder = (conn, threading.current_thread())
        if abandoned:  # a thread ended inside its transaction: its connection, a reference cycle in
            gc.collect()  # sqlite3, is only closed (and its SQLite lock let go) by the collector
        return True

    def give_back(self, conn) -> None:
        with self._changed:
            if self._holder is not None and self._holder[0] is conn:
                self._holder = None
                self._changed.notify()


_TURNS: dict[str, WriteTurns] = {}
_TURNS_LOCK = threading.Lock()


def write_turns(path: str) -> WriteTurns | None:
    """The one `WriteTurns` of a SQLite file in this process (every database object on it);
    None for a database in memory or given as a URI."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    key = os.path.realpath(path)
    with _TURNS_LOCK:
        return _TURNS.setdefault(key, WriteTurns())


def sqlite_path(db: peewee.Database) -> Path | None:
    """The SQLite file of a database, or None (PostgreSQL, or SQLite in memory)."""
    if not is_sqlite(db) or not db.database or db.database == ":memory:" or db.database.startswith("file:"):
        return None
    return Path(db.database)


def create_sqlite_file(db: peewee.Database) -> None:
    """Make a missing SQLite file (and its folder) of mode 0600: it holds ciphertexts and key
    hashes, and SQLite gives -wal/-shm the same mode. Nothing for PostgreSQL or an existing file."""
    path = sqlite_path(db)
    if path is None or path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise DatabaseUnavailable(f"Cannot create the SQLite database {path} ({exc.strerror}): "
                                  "check that the hub's user may write there, or set "
                                  "HUB_INSTANCE_PATH or HUB_DATABASE_URL elsewhere.") from None


def require_existing(db: peewee.Database) -> None:
    """Refuse, with what to do, a SQLite database whose file does not exist yet (a hub never set
    up there); connecting would create it. PostgreSQL answers for itself on connecting."""
    path = sqlite_path(db)
    if path is not None and not path.exists():
        raise DatabaseUnavailable(f"No hub is set up here: the database {path} does not exist. Run "
                                  "'hub init' first, or point HUB_INSTANCE_PATH or HUB_DATABASE_URL "
                                  "at the hub's.")


# What the drivers raise when the database is missing, unreachable, not set up or unusable.
DRIVER_ERRORS = (peewee.OperationalError, peewee.ProgrammingError, peewee.InterfaceError,
                 peewee.ImproperlyConfigured)


def _driver_exceptions() -> tuple[type[Exception], ...]:
    try:  # what psycopg2 raises outside peewee's wrapping (peewee wraps what it runs)
        import psycopg2
    except ImportError:
        return ()
    return (psycopg2.OperationalError, psycopg2.InterfaceError)


# Everything a request can meet when the database is missing, unreachable, not set up, or went
# away mid-request (a terminated backend, a closed connection, a full pool). Not IntegrityError or
# DataError: those are about the data, and the code that writes answers them.
DATABASE_ERRORS = DRIVER_ERRORS + (MaxConnectionsExceeded,) + _driver_exceptions()

_CONNECTION_LOST = ("server closed the connection", "connection already closed", "terminating connection",
                    "connection not open", "lost synchronization", "could not receive data",
                    "could not send data", "ssl syscall error", "no connection to the server",
                    "cursor already closed", "connection timed out", "is not currently accepting")

_NO_TABLE = re.compile(r'no such table: (\w+)|relation "([^"]+)" does not exist')
_NO_DATABASE = re.compile(r'database "([^"]+)" does not exist')


def unavailable(exc: Exception, db: peewee.Database | None = None) -> DatabaseUnavailable:
    """A driver's error as one sentence for the operator: what is wrong and what to do."""
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, peewee.ImproperlyConfigured):
        if "driver" in text.lower() or "psycopg" in text.lower():
            return DatabaseUnavailable("HUB_DATABASE_URL names a PostgreSQL database, but its driver "
                                       "(psycopg2) is not installed: pip install 'hub[postgres]'.")
        return DatabaseUnavailable(f"The database is not configured usably ({first_line}): check "
                                   "HUB_DATABASE_URL.")
    table = _NO_TABLE.search(text)
    if table:
        return DatabaseUnavailable(f"The database has no table '{table.group(1) or table.group(2)}': "
                                   "no hub is set up in it. Run 'hub init' first (or 'hub db upgrade' "
                                   "if it holds an older hub).")
    missing = _NO_DATABASE.search(text)
    if missing:
        name = missing.group(1)
        return DatabaseUnavailable(f"The PostgreSQL database '{name}' does not exist: check "
                                   f"HUB_DATABASE_URL, or create it with 'createdb {name}' and run "
                                   "'hub init'.")
    if "unable to open database file" in text:
        where = sqlite_path(db) if db is not None else None
        return DatabaseUnavailable(f"Cannot open the SQLite database{f' {where}' if where else ''}: "
                                   "run 'hub init' first, or check HUB_INSTANCE_PATH / "
                                   "HUB_DATABASE_URL and the folder's permissions.")
    if isinstance(exc, MaxConnectionsExceeded):
        return DatabaseUnavailable("Every connection of the hub's PostgreSQL pool (32 per process) is "
                                   "in use: the database answers too slowly for the load, or requests "
                                   "hold connections too long.")
    if "database is locked" in text:
        return DatabaseUnavailable("The SQLite database stayed locked past the busy timeout "
                                   "(HUB_SQLITE_BUSY_TIMEOUT): another process holds it; for several "
                                   "processes use PostgreSQL.")
    lowered = text.lower()
    if "deadlock detected" in lowered or "could not serialize" in lowered:
        return DatabaseUnavailable(f"The database aborted a transaction ({first_line.rstrip('.')}): "
                                   "concurrent requests conflicted; the caller may retry.")
    if any(sign in lowered for sign in _CONNECTION_LOST) or (
            isinstance(exc, (peewee.OperationalError, peewee.InterfaceError))
            and ("connect" in text or "could not translate" in text)):
        return DatabaseUnavailable(f"The database does not answer ({first_line.rstrip('.')}): check "
                                   "HUB_DATABASE_URL and that the database server is up.")
    return DatabaseUnavailable(f"The database failed ({first_line.rstrip('.')}): check HUB_DATABASE_URL, "
                               "and run 'hub db upgrade' if the hub was upgraded.")


def discard_broken(db: peewee.Database) -> bool:
    """Drop this thread's connection if the database error just met left it unusable (closed by
    the server or the network, or in an unknown state), so that it is closed, not pooled again.
    Whether it dropped one. SQLite connections are files: nothing to drop."""
    if is_sqlite(db) or db.is_closed():
        return False
    conn = db._state.conn
    try:
        broken = bool(conn.closed) or db._adapter.txn_status(conn) == db._adapter.txn_unknown
    except DATABASE_ERRORS:
        broken = True
    if broken:
        drop_connection(db)
    return broken


def drop_connection(db: peewee.Database) -> None:
    """Close this thread's connection without giving it back to the pool (it may be dead)."""
    if db.is_closed():
        return
    conn = db._state.conn
    if isinstance(db, PooledDatabase):
        with db._pool_lock:
            db._in_use.pop(db.conn_key(conn), None)
            db._pool_available.notify()
    db._state.reset()  # this thread holds no connection (and no transaction) any more
    if isinstance(db, HubSqliteDatabase):
        db.give_back_turn(conn)
    with contextlib.suppress(*DATABASE_ERRORS):  # it was dead already
        conn.close()


def release(db: peewee.Database) -> None:
    """End of a request: give the connection back, or drop it if closing it fails."""
    if db.is_closed():
        return
    try:
        db.close()
    except DATABASE_ERRORS:
        drop_connection(db)


def end_request(db: peewee.Database) -> None:
    """End of a request. PostgreSQL: the connection goes back to the pool. SQLite: this thread's
    connection stays open for its next request (waitress's threads are long-lived), because opening
    one costs more than a request's own SQL: five per-connection pragmas, and a WAL checkpoint when
    the last connection closes. Only a connection left inside a transaction (a failure no
    `atomic()` unwound) is closed, so the next request never inherits a half-done one."""
    if db.is_closed():
        return
    if is_sqlite(db) and not db.in_transaction() and not db._state.conn.in_transaction:
        return
    release(db)


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
        except DATABASE_ERRORS as exc:  # no driver, no server, a full pool: logged, answered 503
            raise unavailable(exc, db) from None

    @app.teardown_request
    def _close(exc):
        end_request(db)
