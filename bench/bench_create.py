"""Requests per second of `POST /v1/projects/{p}/integrations` (create) against a floor.

The hub validates the body against the provider's schema, seals the credentials, inserts the row
(and its tags) and appends `integration.create` to the audit chain, in one transaction. The floor
is the same stack (Flask + peewee + SQLite opened and held as the hub holds it, WSGI test client)
parsing the JSON body, inserting one row and committing, with no auth, no validation, no sealing
and no audit. Alternating rounds, medians. No goal: the figure shows what a write costs.

    .venv/bin/python bench/bench_create.py [--requests N] [--rounds R]
"""
from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from flask import Flask, jsonify, request
from floor import Result, alternate, floor_app, hub_app


def make_floor_app(instance: Path) -> Flask:
    app, db = floor_app(instance)
    db.connect(reuse_if_open=True)
    db.execute_sql("CREATE TABLE IF NOT EXISTS floor_created (id INTEGER PRIMARY KEY, name TEXT UNIQUE, "
                   "body TEXT, at TEXT)")
    db.close()

    @app.post("/rows")
    def create():
        body = request.get_json()
        with db.atomic():
            cursor = db.execute_sql("INSERT INTO floor_created (name, body, at) VALUES (?, ?, datetime('now'))",
                                    (body["name"], request.get_data(as_text=True)))
        return jsonify({"id": cursor.lastrowid, "name": body["name"]}), 201

    return app


def _rate(client, path: str, headers: dict, bodies, requests: int) -> float:
    """Creations per second of `POST path` with the next bodies (each must answer 201)."""
    start = time.perf_counter()
    for _ in range(requests):
        resp = client.post(path, headers=headers, json=next(bodies))
        assert resp.status_code == 201, resp.get_json()
    return requests / (time.perf_counter() - start)


def measure(requests: int = 500, rounds: int = 5) -> Result:
    counter = itertools.count()
    bodies = ({"name": f"create-{i}", "provider": "slack", "credentials": {"token": f"xoxb-bench-{i}"},
               "tags": ["bench"]} for i in counter)
    with tempfile.TemporaryDirectory() as tmp:
        app, setup = hub_app(tmp)
        auth = {"Authorization": f"Bearer {setup.secret}"}
        hub_client, floor_client = app.test_client(), make_floor_app(Path(tmp)).test_client()
        path = "/v1/projects/bench-project/integrations"
        _rate(floor_client, "/rows", {}, bodies, 50)  # warm up both
        _rate(hub_client, path, auth, bodies, 50)
        floor, hub = alternate(lambda: _rate(floor_client, "/rows", {}, bodies, requests),
                               lambda: _rate(hub_client, path, auth, bodies, requests), rounds)
    return Result("create", "Create an integration (POST)", "req/s", "parse JSON, insert one row, commit",
                  floor, hub, hub / floor, None,
                  rows=[("requests per round and side", f"{rounds} x {requests}")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.requests, args.rounds)
    print(f"floor (insert one row, commit): {result.floor:8.0f} req/s")
    print(f"hub POST .../integrations:      {result.hub:8.0f} req/s")
    print(f"ratio hub/floor:                {result.ratio:8.2f}  (no goal)")


if __name__ == "__main__":
    main()
