"""Requests per second of the authenticated `GET /v1/projects/{project}` against a floor.

The floor is the same stack (Flask + peewee + SQLite opened as the hub opens it, a connection per
request, WSGI test client) returning one row by primary key with no auth, no error mapping and no
schema. Both run in this one
process, alternating over several rounds (so a noisy neighbour slows both alike), and the medians
are compared: the ratio is what the hub's own work costs. Goal: ratio >= 0.5.

    .venv/bin/python bench/bench_project_get.py [--requests N] [--rounds R]
"""
from __future__ import annotations

import argparse
import base64
import secrets
import statistics
import tempfile
from pathlib import Path

from flask import Flask, jsonify
from floor import floor_app, rate


def make_floor_app(instance: Path) -> Flask:
    app, db = floor_app(instance)

    @app.get("/row/<row_id>")
    def row(row_id):
        found = db.execute_sql("SELECT id, handle, display_name, created_at, updated_at "
                               "FROM project WHERE id = ?", (row_id,)).fetchone()
        return jsonify(dict(zip(["id", "handle", "display_name", "created_at", "updated_at"], found)))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from hub import bootstrap, create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                          "PLUGINS_ENTRYPOINTS": False})
        import logging
        logging.getLogger().setLevel(logging.WARNING)
        db = app.extensions["hub.db"]
        with app.app_context(), db.connection_context():
            setup = bootstrap.initialize(app.config, db, "bench", "bench-project")
        hub_client = app.test_client()
        auth = {"Authorization": f"Bearer {setup.secret}"}
        floor_client = make_floor_app(Path(tmp)).test_client()

        floor_path, hub_path = f"/row/{setup.project.id}", f"/v1/projects/{setup.project.handle}"
        rate(floor_client, floor_path, {}, 200)  # warm up both
        rate(hub_client, hub_path, auth, 200)
        floors, hubs = [], []
        for _ in range(args.rounds):
            floors.append(rate(floor_client, floor_path, {}, args.requests))
            hubs.append(rate(hub_client, hub_path, auth, args.requests))
        floor, hub = statistics.median(floors), statistics.median(hubs)
        print(f"rounds x requests per side:          {args.rounds} x {args.requests} (medians below)")
        print(f"floor (row by primary key, no auth): {floor:8.0f} req/s")
        print(f"hub GET /v1/projects/{{project}}:      {hub:8.0f} req/s")
        print(f"ratio hub/floor:                     {hub / floor:8.2f}  (goal >= 0.5)")


if __name__ == "__main__":
    main()
