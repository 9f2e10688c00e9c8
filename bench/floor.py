"""What the benchmarks share: the floor's app (the hub's own stack with none of the hub's work),
and the rate of a request. Imported by the bench scripts beside it."""
from __future__ import annotations

import time
from pathlib import Path

import peewee
from flask import Flask

from hub.storage.database import end_request, open_database


def floor_app(instance: Path) -> tuple[Flask, peewee.Database]:
    """A bare Flask app on the hub's database file, opened exactly as the hub opens it (same
    pragmas and lock mode) and holding its connection as the hub does (`end_request`: a thread's
    SQLite connection stays open across requests); routes are the caller's to add."""
    db = open_database(None, instance)
    app = Flask("floor")

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        end_request(db)

    return app, db


def rate(client, path: str, headers: dict, requests: int) -> float:
    """Requests per second of `GET path` (after one that must answer 200)."""
    first = client.get(path, headers=headers)
    assert first.status_code == 200, first.get_json()
    start = time.perf_counter()
    for _ in range(requests):
        client.get(path, headers=headers)
    return requests / (time.perf_counter() - start)
