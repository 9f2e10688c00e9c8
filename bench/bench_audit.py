"""The audit log's two figures: the credential door against its floor, and an audit page at 1M
events against the same page at 1k.

1. Door: requests/second of `GET /v1/projects/{p}/integrations/{id}/credentials` (auth, decrypt,
   an audit event appended to the chain, committed) against a floor on the same stack (Flask +
   peewee + SQLite opened and held as the hub holds it, WSGI test client) doing the least such a
   read must do: read the row by primary key, decrypt its ciphertext (XChaCha20-Poly1305), insert
   one row and commit, with no auth, no chain and no schema. Alternating rounds, medians. Goal
   >= 0.5.
2. Paging: median latency of `GET /v1/projects/{p}/audit-events?limit=50` (first page, a page deep
   in by cursor, and `?action=` filtered; the best of rounds alternating between the two hubs) on a hub with 1,000
   events and on one with 1,000,000. Goal: 1M / 1k <= 1.2 for each.

    .venv/bin/python bench/bench_audit.py [--events 1000000] [--requests 500] [--rounds 5]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import nacl.bindings
from flask import Flask, jsonify
from floor import Result, alternate, alternate_pages, floor_app, hub_app, rate


def _floor_app(instance: Path) -> Flask:
    app, db = floor_app(instance)
    key = os.urandom(32)
    nonce = os.urandom(24)
    db.connect(reuse_if_open=True)
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


def door(requests: int = 500, rounds: int = 5) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        app, setup = hub_app(tmp)
        auth = {"Authorization": f"Bearer {setup.secret}"}
        client = app.test_client()
        made = client.post("/v1/projects/bench-project/integrations", headers=auth, json={
            "name": "bench", "provider": "slack", "credentials": {"token": "xoxb-bench"}})
        path = f"/v1/projects/bench-project/integrations/{made.get_json()['id']}/credentials"
        floor = _floor_app(Path(tmp)).test_client()
        rate(floor, "/row/1", {}, 100)
        rate(client, path, auth, 100)
        f, h = alternate(lambda: rate(floor, "/row/1", {}, requests),
                         lambda: rate(client, path, auth, requests), rounds)
    return Result("door", "Credential door read (audited)", "req/s",
                  "read, decrypt, insert, commit", f, h, h / f, ">= 0.5",
                  rows=[("requests per round and side", f"{rounds} x {requests}")])


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


def paging(small: int = 1000, big: int = 1_000_000, requests: int = 100, rounds: int = 5) -> Result:
    sides, filled = {}, {}
    with contextlib.ExitStack() as stack:
        for count in (small, big):
            app, setup = hub_app(stack.enter_context(tempfile.TemporaryDirectory()))
            started = time.perf_counter()
            _fill(app, setup, count)
            filled[count] = time.perf_counter() - started
            client, auth = app.test_client(), {"Authorization": f"Bearer {setup.secret}"}
            base = "/v1/projects/bench-project/audit-events?limit=50"
            page = client.get(base, headers=auth).get_json()
            for _ in range(max(0, min(10, count // 50 - 2))):  # a cursor ten pages down the chain
                page = client.get(f"{base}&cursor={quote(page['next_cursor'])}", headers=auth).get_json()
            sides[count] = (client, auth, {"first page": base,
                                           "by cursor": f"{base}&cursor={quote(page['next_cursor'])}",
                                           "?action= filtered": f"{base}&action=secret.resolve"})
        results = alternate_pages(sides, requests, rounds)
    ratios = {name: results[big][name] / results[small][name] for name in results[small]}
    worst = max(ratios, key=ratios.get)
    return Result("audit_paging", f"Audit page (limit=50) at {big:,} vs {small:,} events", "ms",
                  f"{small:,} events", results[small][worst], results[big][worst], ratios[worst],
                  "<= 1.2", hub_label=f"{big:,} events",
                  rows=[(name, f"{results[small][name]:.2f} ms at {small:,}, {results[big][name]:.2f} ms "
                               f"at {big:,}: {ratios[name]:.2f}") for name in ratios]
                  + [("filled in bulk", f"{filled[big]:.1f} s for {big:,} events")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for result in (door(args.requests, args.rounds),
                   paging(1000, args.events, args.requests // 5, args.rounds)):
        print(f"{result.title}: floor {result.floor:.2f}, hub {result.hub:.2f} {result.unit}, "
              f"ratio {result.ratio:.2f} (goal {result.goal})")
        for label, text in result.rows:
            print(f"  {label}: {text}")


if __name__ == "__main__":
    main()
