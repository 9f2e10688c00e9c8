"""What the benchmarks share: a hub to measure, the floor's app (the hub's own stack with none of
the hub's work), the rate and latency of requests, alternating rounds, and the `Result` each
benchmark returns to `run_all.py`. Imported by the bench scripts beside it."""
from __future__ import annotations

import base64
import dataclasses
import logging
import platform
import secrets
import statistics
import time
from pathlib import Path
from typing import Callable

import peewee
from flask import Flask

from hub.storage.database import end_request, open_database


@dataclasses.dataclass
class Result:
    """One benchmark's figure: the hub against its floor (or its physical limit), and the goal.

    `ratio` is hub/floor for rates, and hub/floor or big/small for latencies; `goal` reads
    ">= 0.8" or "<= 1.2" (None: no goal); `rows` are extra lines for the document's table."""

    key: str
    title: str
    unit: str
    floor_label: str
    floor: float
    hub: float
    ratio: float
    goal: str | None = None
    rows: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    goal_text: str | None = None  # the goal as the document says it, when not a ratio to a floor
    hub_label: str | None = None  # what the hub's figure is, when not the hub doing the same

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        op, bound = self.goal.split()
        return self.ratio >= float(bound) if op == ">=" else self.ratio <= float(bound)


def hub_app(tmp: str, plugins: bool = True, **config):
    """A hub on SQLite in `tmp` with one org and project ("bench-project"); (app, setup)."""
    from hub import bootstrap, create_app

    app = create_app({"INSTANCE_PATH": tmp, "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                      "PLUGINS_ENTRYPOINTS": plugins, **config})
    logging.getLogger().setLevel(logging.WARNING)  # no access log line per request
    db = app.extensions["hub.db"]
    with app.app_context(), db.connection_context():
        setup = bootstrap.initialize(app.config, db, "bench", "bench-project")
    return app, setup


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


def latency_ms(client, path: str, headers: dict, requests: int) -> float:
    """Median milliseconds of `GET path`, each answer checked to be 200."""
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        resp = client.get(path, headers=headers)
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200, resp.get_json()
    return statistics.median(times) * 1000


def alternate(floor: Callable[[], float], hub: Callable[[], float], rounds: int) -> tuple[float, float]:
    """Medians of `rounds` alternating runs of each side (a noisy neighbour slows both alike)."""
    floors, hubs = [], []
    for _ in range(rounds):
        floors.append(floor())
        hubs.append(hub())
    return statistics.median(floors), statistics.median(hubs)


def alternate_pages(sides: dict, requests: int, rounds: int) -> dict:
    """Latency (ms) of each page on each side: the best over `rounds` rounds (each round visits
    every side in turn, so that both sizes of a paging benchmark meet the same load) of the
    median of `requests` requests. The best, because a neighbour's load only ever adds time.

    `sides`: {size: (client, headers, {page name: path})} -> {size: {page name: ms}}."""
    for client, headers, paths in sides.values():
        for path in paths.values():
            latency_ms(client, path, headers, 20)  # warm up
    times = {size: {name: [] for name in paths} for size, (_, _, paths) in sides.items()}
    for _ in range(rounds):
        for size, (client, headers, paths) in sides.items():
            for name, path in paths.items():
                times[size][name].append(latency_ms(client, path, headers, requests))
    return {size: {name: min(values) for name, values in by_name.items()}
            for size, by_name in times.items()}


def cpu_model() -> str:
    """The CPU the figures were measured on, for the report."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
