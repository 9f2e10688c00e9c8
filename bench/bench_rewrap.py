"""`hub crypto rewrap` throughput: records re-encrypted per second on a fresh SQLite hub.

    .venv/bin/python bench/bench_rewrap.py [--records 100000] [--batch-size 1000] [--database-url URL]

Makes a hub (SQLite in a temporary folder unless --database-url names an empty PostgreSQL database),
inserts the records in bulk (half integration credentials, half secret versions, each sealed under
the primary data key as the hub seals them), rotates the data key, then times the rewrap of all of
them to the new primary (each batch read, opened, sealed again and written in its own
transaction) and checks that every record opens under the new key. Prints records/s and the
machine (nproc, CPU model).
"""
from __future__ import annotations

import argparse
import base64
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from floor import Result, cpu_model  # noqa: E402 (beside this script)

from hub import bootstrap
from hub.app import create_app
from hub.crypto import operations
from hub.crypto.canonical import canonical_json
from hub.crypto.rewrap import rewrap
from hub.integrations import integrity
from hub.storage.database import is_sqlite
from hub.storage.models import (
    Integration,
    Secret,
    SecretVersion,
    database,
    new_id,
    utcnow,
)


def insert_sealed_rows(keyring, org_id: str, project_id: str, count: int, chunk: int = 2000) -> dict:
    """`count` sealed records in bulk, half integration credentials and half secret versions, as
    the hub seals them (under the primary, bound to their row). Returns {row id: plaintext}."""
    now = utcnow()
    n_integrations = count // 2
    secret = Secret.create(id=new_id(), project=project_id, name=f"bulk-{new_id()[-12:]}",
                           current_version=count - n_integrations, created_at=now, updated_at=now)
    plaintexts = {}
    integrations = [Integration(id=new_id(), org=org_id, project=project_id, name=f"bulk-{i}",
                                provider="slack", auth_type="bot_token", config={}, tags=[],
                                status="active", credential_fields=["token"], fingerprint="0" * 64,
                                created_at=now, updated_at=now, credentials_updated_at=now)
                    for i in range(n_integrations)]
    versions = [SecretVersion(id=new_id(), secret=secret.id, project_id=project_id, org_id=org_id,
                              version=v, state="DISABLED", sha256="0" * 64, created_at=now, state_changed_at=now)
                for v in range(1, count - n_integrations + 1)]
    for model, rows, prefix, value in ((Integration, integrations, "credentials", "token"),
                                       (SecretVersion, versions, "values", "API_KEY")):
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            texts = [canonical_json({value: f"{prefix}-{row.id}"}) for row in part]
            for row, text, sealed in zip(part, texts, keyring.seal_many(
                    [(text, row.sealed_aad(prefix)) for row, text in zip(part, texts)])):
                setattr(row, f"{prefix}_key_id", sealed.key_id)
                setattr(row, f"{prefix}_ciphertext", sealed.ciphertext)
                plaintexts[row.id] = text
                if model is Integration:  # its fingerprint and MAC, as the hub writes them
                    row.fingerprint = keyring.fingerprint(text)
                    integrity.stamp(keyring, row)
            insert_rows(model, part)
    return plaintexts


def insert_rows(model, rows) -> None:
    """INSERT the rows in one statement per chunk (peewee's insert_many compiles every value)."""
    db = database.obj
    fields = model._meta.sorted_fields
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    values = [[f.db_value(row.__data__.get(f.name)) for f in fields] for row in rows]
    with database.atomic():
        cursor = database.cursor()
        if is_sqlite(db):
            cursor.executemany(f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
                               f"({', '.join('?' * len(fields))})", values)
        else:
            from psycopg2.extras import execute_values
            execute_values(cursor, f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES %s',
                           values, page_size=2000)


def measure(records: int = 100_000, batch_size: int = 1000, database_url: str | None = None) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{folder}/hub.db"
        app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": url, "TESTING": True,
                          "ROOT_KEY": base64.b64encode(os.urandom(32)).decode(),
                          "PLUGINS_ENTRYPOINTS": False})
        db = app.extensions["hub.db"]
        with app.app_context(), db.connection_context():
            setup = bootstrap.initialize(app.config, db, "bench", "bench")
            keyring = app.extensions["hub.keyring"].get()
            started = time.perf_counter()
            insert_sealed_rows(keyring, setup.org.id, setup.project.id, records)
            inserted = time.perf_counter() - started
            old = keyring.primary_id()
            operations.rotate(keyring)
            summary = rewrap(keyring, batch_size=batch_size)
            assert summary.rewrapped == records, summary
            assert summary.remaining == {}, summary.remaining
            assert all(r["ciphertexts"] == 0 for r in keyring.status() if r["id"] == old)
            checked = 0
            for row in Integration.select().where(Integration.name.startswith("bulk-")):
                keyring.open_sealed(row.credentials_key_id, row.credentials_ciphertext, row.sealed_aad())
                checked += 1
            for row in SecretVersion.select():
                keyring.open_sealed(row.values_key_id, row.values_ciphertext, row.sealed_aad("values"))
                checked += 1
            assert checked == records
        if hasattr(db, "close_all"):
            db.close_all()
    backend = ("PostgreSQL" if url.startswith("postgres")
               else f"SQLite {__import__('sqlite3').sqlite_version}")
    per_second = summary.rewrapped / summary.seconds
    return Result("rewrap", f"Rewrap ({backend})", "records/s", "goal", GOAL, per_second,
                  per_second / GOAL, ">= 1.0", goal_text=f">= {GOAL:,} records/s",
                  rows=[("records", f"{records:,} sealed (half integrations, half secret versions), "
                                    f"inserted in {inserted:.1f} s"),
                        ("rewrapped", f"{summary.rewrapped:,} in {summary.seconds:.2f} s, batch size "
                                      f"{batch_size}, {summary.passes} pass(es); each opens under "
                                      "the new primary")])


GOAL = 20_000  # records/s on SQLite (issue 11)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    result = measure(args.records, args.batch_size, args.database_url)
    print(f"machine: nproc={os.cpu_count()}, CPU {cpu_model()}, Python {platform.python_version()}")
    print(f"{result.title}: {result.hub:,.0f} records/s (goal {result.goal_text})")
    for label, text in result.rows:
        print(f"  {label}: {text}")


if __name__ == "__main__":
    main()
