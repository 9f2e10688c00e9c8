"""Re-encrypting every sealed column under the primary data key (`hub crypto rewrap`).

For each sealed column pair (`models.SEALED_COLUMNS`), rows whose `<prefix>_key_id` is not the
primary are walked in primary-key order, in batches. A batch is read outside any transaction, opened
and sealed again under the primary (`KeyRing.reseal_many`, with `row.sealed_aad(prefix)`), then
written in a transaction of its own by one conditional UPDATE per row:

    UPDATE t SET k = new key, c = new ciphertext WHERE id = ? AND k = old key AND c = old ciphertext

so a write that raced with the batch (a server resealing the row, a version destroyed, a row
deleted) is never overwritten by the rewrap's copy: that row is skipped, and it is on the primary
already. A killed run loses nothing (each batch commits whole or not at all) and a rerun simply finds
fewer rows. The write lock is held only for the UPDATEs, never while reading or encrypting, so
servers keep serving and writing on SQLite too.

When a pass finds rows it could not finish (written meanwhile under a key that a concurrent `hub
crypto rotate` has just made non-primary), it walks again, up to `max_passes` times. A record that
does not open (an unknown key, altered bytes) is left as it is and reported by table and id.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable

import peewee

from hub.crypto.keyring import KeyRing
from hub.storage import models
from hub.storage.database import is_sqlite
from hub.storage.models import database

DEFAULT_BATCH_SIZE = 1000


@dataclasses.dataclass
class ColumnResult:
    """What a run did to one sealed column pair."""

    table: str
    column: str  # the prefix: `<column>_key_id`, `<column>_ciphertext`
    rewrapped: int = 0
    skipped: int = 0  # written by someone else between the read and the UPDATE
    failed: list[str] = dataclasses.field(default_factory=list)  # ids of rows that do not open
    from_keys: dict[str, int] = dataclasses.field(default_factory=dict)  # old key id -> rewrapped

    def as_dict(self) -> dict:
        return {"table": self.table, "column": self.column, "rewrapped": self.rewrapped,
                "skipped": self.skipped, "failed": len(self.failed),
                "from_keys": dict(sorted(self.from_keys.items()))}


@dataclasses.dataclass
class Summary:
    primary: str
    columns: list[ColumnResult]
    total: int  # ciphertexts on other keys when the run began
    passes: int
    seconds: float
    remaining: dict[str, int]  # non-primary key id -> ciphertexts it still protects afterwards

    @property
    def rewrapped(self) -> int:
        return sum(c.rewrapped for c in self.columns)

    @property
    def skipped(self) -> int:
        return sum(c.skipped for c in self.columns)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [(c.table, row_id) for c in self.columns for row_id in c.failed]

    @property
    def from_keys(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for column in self.columns:
            for key_id, count in column.from_keys.items():
                counts[key_id] = counts.get(key_id, 0) + count
        return dict(sorted(counts.items()))

    def audit_details(self) -> dict:
        """For the `crypto.rewrap` event: counts and key ids only."""
        return {"primary": self.primary, "rewrapped": self.rewrapped, "skipped": self.skipped,
                "failed": len(self.failed), "from_keys": self.from_keys,
                "remaining": sum(self.remaining.values()), "passes": self.passes}


# --- which columns a row's associated data needs ------------------------------------------------

class _ReadRecorder(dict):
    """A row's `__data__` that answers every field and notes which ones were read."""

    def __init__(self, names, value):
        super().__init__((name, value) for name in names)
        self.read: set[str] = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)


def aad_fields(model, prefix: str) -> list[peewee.Field]:
    """The columns `sealed_aad(prefix)` reads (found by calling it on probe rows whose fields are
    all set, then all None, so either side of a `x if row.a else row.b` is seen), primary key first.

    Reading only these keeps a batch cheap (no JSON or dates decoded). Should a future `sealed_aad`
    read a column the probes miss, its records fail to open and are reported, never rewritten.
    """
    names = [field.name for field in model._meta.sorted_fields]
    read: set[str] = set()
    for value in ("x", None):
        probe = model(__no_default__=1)
        probe.__data__ = recorder = _ReadRecorder(names, value)
        with contextlib.suppress(Exception):  # a probe of None may not format; the other counts
            probe.sealed_aad(prefix)
        read |= recorder.read
    primary_key = model._meta.primary_key
    return [primary_key] + [model._meta.fields[name] for name in names
                            if name in read and name != primary_key.name]


# --- the walk ------------------------------------------------------------------------------------

class _Column:
    """One sealed column pair, with its SELECT and its conditional UPDATE."""

    def __init__(self, model, prefix: str):
        self.model, self.prefix = model, prefix
        self.key = getattr(model, f"{prefix}_key_id")
        self.ciphertext = getattr(model, f"{prefix}_ciphertext")
        self.id = model._meta.primary_key
        self.fields = aad_fields(model, prefix)
        self.names = [field.name for field in self.fields]
        self.result = ColumnResult(model._meta.table_name, prefix)

    def pending(self, primary: str):
        return (self.key.is_null(False) & self.ciphertext.is_null(False) & (self.key != primary))

    def count(self, primary: str) -> int:
        return self.model.select().where(self.pending(primary)).count()

    def batch(self, primary: str, after, size: int) -> list[tuple]:
        """(row id, key id, ciphertext, aad) of the next `size` rows after `after` not on `primary`."""
        query = self.model.select(*self.fields, self.key, self.ciphertext).where(self.pending(primary))
        if after is not None:
            query = query.where(self.id > after)
        # Run as plain SQL: peewee's row wrappers would cost more than the decryption.
        sql, params = query.order_by(self.id).limit(size).sql()
        model, prefix, names = self.model, self.prefix, self.names
        converters = [field.python_value for field in self.fields]
        width = len(converters)
        rows = []
        for values in database.execute_sql(sql, params).fetchall():
            data = {name: convert(value) for name, convert, value in zip(names, converters, values)}
            row = model(__no_default__=1, **data)
            rows.append((data[names[0]], values[width], bytes(values[width + 1]),
                         row.sealed_aad(prefix)))
        return rows

    def write(self, changes: list[tuple]) -> set:
        """Apply (id, old key, old ciphertext, new key, new ciphertext) where the row still holds
        the old pair, in one transaction; returns the ids of the rows changed."""
        if not changes:
            return set()
        db = database.obj
        table = _quoted(db, self.model._meta.table_name)
        key, ciphertext, row_id = (_quoted(db, f.column_name) for f in (self.key, self.ciphertext, self.id))
        with database.atomic():
            cursor = database.cursor()
            if is_sqlite(db):
                cursor.executemany(
                    f"UPDATE {table} SET {key} = ?, {ciphertext} = ? "
                    f"WHERE {row_id} = ? AND {key} = ? AND {ciphertext} = ?",
                    [(new_key, new_ct, rid, old_key, old_ct)
                     for rid, old_key, old_ct, new_key, new_ct in changes])
                if cursor.rowcount == len(changes):
                    return {change[0] for change in changes}
                # Some rows were written meanwhile: those holding this batch's ciphertext are ours
                # (a fresh random nonce each, so no one else's write can hold the same bytes).
                ours = {change[0]: change[4] for change in changes}
                cursor.execute(f"SELECT {row_id}, {ciphertext} FROM {table} WHERE {row_id} IN "
                               f"({', '.join('?' * len(ours))})", list(ours))
                return {rid for rid, ct in cursor.fetchall() if ct is not None and bytes(ct) == ours[rid]}
            # PostgreSQL: one statement joining a VALUES list (executemany is a round trip a row).
            param = db.param
            values = ", ".join([f"({param}, {param}, {param}::bytea, {param}, {param}::bytea)"]
                               * len(changes))
            cursor.execute(
                f"UPDATE {table} AS t SET {key} = v.new_key, {ciphertext} = v.new_ct "
                f"FROM (VALUES {values}) AS v(id, old_key, old_ct, new_key, new_ct) "
                f"WHERE t.{row_id} = v.id AND t.{key} = v.old_key AND t.{ciphertext} = v.old_ct "
                f"RETURNING t.{row_id}",
                [value for change in changes for value in change])
            return {rid for (rid,) in cursor.fetchall()}


def _with_retries(write, changes, attempts: int = 4):
    """Run a batch's write again when the database gave up on it (a deadlock PostgreSQL broke with
    a server's transaction that locks several sealed rows; SQLite busy past its timeout): the
    conditional UPDATE changes only rows that still hold what this batch read, so a retry is safe."""
    for attempt in range(attempts):
        try:
            return write(changes)
        except peewee.OperationalError:  # psycopg2's DeadlockDetected among them
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def _quoted(db, name: str) -> str:
    opening, closing = db.quote[0], db.quote[-1]
    return f"{opening}{name.replace(closing, closing * 2)}{closing}"


def _remaining(keyring: KeyRing) -> dict[str, int]:
    return {row["id"]: row["ciphertexts"] for row in keyring.status()
            if row["state"] != "primary" and row["ciphertexts"]}


def rewrap(keyring: KeyRing, *, batch_size: int = DEFAULT_BATCH_SIZE, pause: float = 0.0,
           max_passes: int = 3,
           progress: Callable[[int, int, str], None] | None = None) -> Summary:
    """Re-encrypt every sealed column under the primary data key (see the module's docstring).

    :param batch_size: rows per batch (each batch is one transaction).
    :param pause: seconds to wait after each batch, to leave the database to the servers.
    :param progress: called after each batch with (done, total, line).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if database.in_transaction():
        raise RuntimeError("rewrap must run outside any transaction: each batch is its own")
    started = time.monotonic()
    columns = [_Column(model, prefix) for model, prefix in models.SEALED_COLUMNS]
    primary = keyring.primary_id()
    total = sum(column.count(primary) for column in columns)
    done = passes = 0
    while passes < max_passes:
        passes += 1
        found = 0
        for column in columns:
            after = None
            while True:
                rows = column.batch(primary, after, batch_size)
                if not rows:
                    break
                found += len(rows)
                after = rows[-1][0]
                primary, sealed = keyring.reseal_many([(key_id, ct, aad) for _, key_id, ct, aad in rows])
                changes, unopened = [], 0
                for (row_id, key_id, ct, _), new_ct in zip(rows, sealed):
                    if new_ct is None:
                        column.result.failed.append(row_id)
                        unopened += 1
                    elif key_id != primary:
                        changes.append((row_id, key_id, ct, primary, new_ct))
                changed = _with_retries(column.write, changes)
                result = column.result
                for row_id, key_id, *_ in changes:
                    if row_id in changed:
                        result.rewrapped += 1
                        result.from_keys[key_id] = result.from_keys.get(key_id, 0) + 1
                    else:
                        result.skipped += 1
                done += len(rows)
                if progress is not None:
                    line = f"{result.table}.{column.prefix}: {len(changed)} rewrapped"
                    if len(changes) > len(changed):
                        line += f", {len(changes) - len(changed)} written meanwhile (left as written)"
                    if unopened:
                        line += f", {unopened} that do not open (left as they are)"
                    progress(done, max(total, done), line)
                if pause:
                    time.sleep(pause)
        primary = keyring.primary_id()
        failed = sum(len(c.result.failed) for c in columns)
        left = sum(column.count(primary) for column in columns)
        if found == 0 or left <= failed:
            break
        for column in columns:  # walk again: only rows not seen as unopenable count as new work
            column.result.failed.clear()
    return Summary(primary=primary, columns=[c.result for c in columns], total=total,
                   passes=passes, seconds=time.monotonic() - started, remaining=_remaining(keyring))
