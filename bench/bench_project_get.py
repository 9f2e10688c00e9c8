"""Requests per second of the authenticated `GET /v1/projects/{project}` against a floor.

The floor is the same stack (Flask + peewee + SQLite opened and held as the hub holds it, WSGI
test client) returning one row by primary key with no auth, no error mapping and no schema. Both
run in this one process, alternating over several rounds (so a noisy neighbour slows both alike),
and the medians are compared: the ratio is what the hub's own work costs. Goal: ratio >= 0.8.

    .venv/bin/python bench/bench_project_get.py [--requests N] [--rounds R]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from flask import Flask, jsonify
from floor import Result, alternate, floor_app, hub_app, rate

_COLUMNS = ["id", "handle", "display_name", "created_at", "updated_at"]


def make_floor_app(instance: Path) -> Flask:
    app, db = floor_app(instance)

    @app.get("/row/<row_id>")
    def row(row_id):
        found = db.execute_sql(f"SELECT {', '.join(_COLUMNS)} FROM project WHERE id = ?",
                               (row_id,)).fetchone()
        return jsonify(dict(zip(_COLUMNS, found)))

    return app


def measure(requests: int = 1000, rounds: int = 5) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        app, setup = hub_app(tmp, plugins=False)
        hub_client = app.test_client()
        auth = {"Authorization": f"Bearer {setup.secret}"}
        floor_client = make_floor_app(Path(tmp)).test_client()
        floor_path, hub_path = f"/row/{setup.project.id}", f"/v1/projects/{setup.project.handle}"
        rate(floor_client, floor_path, {}, 200)  # warm up both
        rate(hub_client, hub_path, auth, 200)
        floor, hub = alternate(lambda: rate(floor_client, floor_path, {}, requests),
                               lambda: rate(hub_client, hub_path, auth, requests), rounds)
    return Result("project_get", "Authenticated GET /v1/projects/{project}", "req/s",
                  "row by primary key, no auth", floor, hub, hub / floor, ">= 0.8",
                  rows=[("requests per round and side", f"{rounds} x {requests}")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.requests, args.rounds)
    print(f"floor (row by primary key, no auth): {result.floor:8.0f} req/s")
    print(f"hub GET /v1/projects/{{project}}:      {result.hub:8.0f} req/s")
    print(f"ratio hub/floor:                     {result.ratio:8.2f}  (goal {result.goal})")


if __name__ == "__main__":
    main()
