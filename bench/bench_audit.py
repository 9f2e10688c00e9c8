"""The audit log's two figures: the credential door against its floor, and an audit page at 1M
events against the same page at 1k.

1. Door: requests/second of `GET /v1/projects/{p}/integrations/{id}/credentials` (auth, decrypt,
   an audit event appended to the chain, committed) against a floor on the same stack (Flask +
   peewee + SQLite opened as the hub opens it, WSGI test client) doing the least such a read must
   do: read the row by primary key, decrypt its ciphertext (XChaCha20-Poly1305), insert one row
   and commit, with no auth, no chain and no schema. Alternating rounds, medians. Goal >= 0.5.
2. Paging: median latency of `GET /v1/projects/{p}/audit-events?limit=50` (first page, a page deep
   in by cursor, and `?action=` filtered) on a hub with 1,000 events and on one with 1,000,000.
   Goal: 1M / 1k <= 1.2.

    .venv/bin/python bench/bench_audit.py [--events 1000000] [--requests 500] [--rounds 5]
"""
from __future__ import annotations

import argparse
import base64
import logging
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import nacl.bindings
from flask import Flask, jsonify

from floor import floor_app, rate


def _hub(tmp: str):
    from hub import bootstrap, create_app

    app = create_app({"INSTANCE_PATH": tmp, "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                      "PLUGINS_ENTRYPOINTS": True})
    logging.getLogger().setLevel(logging.WARNING)
    db = app.extensions["hub.db"]
    with app.app_context(), db.connection_context():
        setup = bootstrap.initialize(app.config, db, "bench", "bench-project")
    return app, setup


def _floor_app(instance: Path) -> Flask:
    app, db = floor_app(instance)
    key = os.urandom(32)
    nonce = os.urandom(24)
    db.connect()
    db.execute_sql("CREATE TABLE IF NOT EXISTS floor_row (id INTEGER PRIMARY KEY, blob BLOB)")
    db.execute_sql("CREATE TABLE IF NOT EXISTS floor_log (id INTEGER PRIMARY KEY, row_id INTEGER, at TEXT)")
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(b'{"token":"xoxb-bench"}', b"ad", nonce, key)
    db.execute_sql("INSERT OR REPLACE INTO floor_row (id, blob) VALUES (1, ?)", (nonce + sealed,))
    db.close()

    @app.get("/row/<int:row_id>")
    def row(row_id):
        with db.atomic():
            blob = bytes(db.execute_sql("SELECT blob FROM floor_row WHERE id = ?", (row_id,)).fetchone()[0])
            plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[24:], b"ad", blob[:24], key)
            db.execute_sql("INSERT INTO floor_log (row_id, at) VALUES (?, datetime('now'))", (row_id,))
        return jsonify({"credentials": plain.decode()})

    return app


def door(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, setup = _hub(tmp)
        auth = {"Authorization": f"Bearer {setup.secret}"}
        client = app.test_client()
        made = client.post("/v1/projects/bench-project/integrations", headers=auth, json={
            "name": "bench", "provider": "slack", "credentials": {"token": "xoxb-bench"}})
        path = f"/v1/projects/bench-project/integrations/{made.get_json()['id']}/credentials"
        floor = _floor_app(Path(tmp)).test_client()
        rate(floor, "/row/1", {}, 100)
        rate(client, path, auth, 100)
        floors, hubs = [], []
        for _ in range(args.rounds):
            floors.append(rate(floor, "/row/1", {}, args.requests))
            hubs.append(rate(client, path, auth, args.requests))
        f, h = statistics.median(floors), statistics.median(hubs)
        print(f"door: rounds x requests per side    {args.rounds} x {args.requests} (medians)")
        print(f"  floor (read, decrypt, insert, commit): {f:8.0f} req/s")
        print(f"  hub credential door (audited):         {h:8.0f} req/s")
        print(f"  ratio hub/floor:                       {h / f:8.2f}  (goal >= 0.5)")


def _fill(app, setup, count: int) -> None:
    """`count` events in the org's chain, written in bulk (their hashes are not a valid chain;
    paging never reads them)."""
    from hub.storage.models import AuditHead, new_id, utcnow

    db = app.extensions["hub.db"]
    actions = ["integration.credentials.read", "secret.resolve", "integration.update", "api_key.create"]
    with app.app_context(), db.connection_context():
        start = (AuditHead.get(AuditHead.org == setup.org.id)).seq
        now = utcnow()
        batch = []
        for i in range(1, count + 1):
            batch.append((new_id(), setup.org.id, start + i, now, "hub_pk_bench", actions[i % 4],
                          "integration", "x", setup.project.id, setup.project.handle, "success",
                          None, None, "{}", "0" * 64, "0" * 64))
            if len(batch) == 20000 or i == count:
                with db.atomic():
                    db.cursor().executemany(
                        "INSERT INTO audit_event (id, org_id, seq, at, actor, action, target_type, "
                        "target_id, project_id, project_handle, outcome, request_id, client_ip, "
                        "details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
                batch = []
        AuditHead.update(seq=start + count).where(AuditHead.org == setup.org.id).execute()
        db.execute_sql("ANALYZE")



def _latency(client, path, auth, requests) -> float:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        resp = client.get(path, headers=auth)
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200
    return statistics.median(times) * 1000


def paging(args) -> None:
    results = {}
    for count in (1000, args.events):
        with tempfile.TemporaryDirectory() as tmp:
            app, setup = _hub(tmp)
            started = time.perf_counter()
            _fill(app, setup, count)
            filled = time.perf_counter() - started
            client, auth = app.test_client(), {"Authorization": f"Bearer {setup.secret}"}
            base = "/v1/projects/bench-project/audit-events?limit=50"
            page = client.get(base, headers=auth).get_json()
            for _ in range(10):  # a cursor ten pages down the chain (500 events in)
                page = client.get(f"{base}&cursor={page['next_cursor']}", headers=auth).get_json()
            cursor = page["next_cursor"]
            paths = {"first page": base, "by cursor": f"{base}&cursor={cursor}",
                     "?action=": f"{base}&action=secret.resolve"}
            results[count] = {name: statistics.median(_latency(client, path, auth, args.requests // 5)
                                                      for _ in range(args.rounds))
                              for name, path in paths.items()}
            print(f"paging: {count:>9,} events (filled in {filled:.1f} s): " +
                  ", ".join(f"{name} {ms:.2f} ms" for name, ms in results[count].items()))
    small, big = results[1000], results[args.events]
    for name in small:
        print(f"  {name:<10} {args.events:,} / 1,000 events: {big[name] / small[name]:.2f}  (goal <= 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    door(args)
    paging(args)


if __name__ == "__main__":
    main()
