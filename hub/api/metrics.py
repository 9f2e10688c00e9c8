"""`GET /metrics` (the Prometheus text format) and the request counting, when `HUB_METRICS` is on.

Off by default: then nothing is registered and `/metrics` answers the 404 problem+json of any
unknown route. On, it needs no bearer key (Prometheus scrapes without one): it shows counts, URL
rules, provider names and data key ids, never a path, a header or a value; restrict who reaches it
at the reverse proxy if the hub faces the internet. It is not in the OpenAPI document (it is not
part of the REST API).

Every request is counted by its URL rule, method and status, and timed from the first
`before_request` hook to the response (so the time to connect to the database is in it).
"""
from __future__ import annotations

import logging
import os
import time

from flask import Response, current_app, g, request

from hub import metrics, settings
from hub.api import context
from hub.errors import SettingsError

log = logging.getLogger("hub.api")

_EXTENSION = "hub.metrics"


def init_app(app) -> None:
    """Register `/metrics` and the hooks if `HUB_METRICS` is on; safe to call more than once."""
    if _EXTENSION in app.extensions or not settings.metrics_on(app.config):
        return
    directory = metrics.multiprocess_dir()
    if directory is not None and not os.path.isdir(directory):
        raise SettingsError(f"PROMETHEUS_MULTIPROC_DIR is {directory!r}, which is not a directory: "
                            "create it (empty) before starting the hub, or unset it for one "
                            "process.")
    app_metrics = metrics.AppMetrics()
    app.extensions[_EXTENSION] = app_metrics

    def _start_timer():
        g._hub_metrics_started = time.perf_counter()

    def _count(response):
        started = g.pop("_hub_metrics_started", None)
        rule = request.url_rule.rule if request.url_rule is not None else None
        app_metrics.observe_request(rule, request.method, response.status_code,
                                    None if started is None else time.perf_counter() - started)
        return response

    # First of the before_request hooks, so the timer runs even when a later one (the database
    # connection, the input guard) answers the request itself.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_count)
    app.add_url_rule("/metrics", "metrics", _scrape, methods=["GET"])


def _keyring_status() -> list[dict] | None:
    """`KeyRing.status()` on this request's database connection; None (logged) if unreadable, so a
    scrape still reports the other metrics while the keyring cannot be opened."""
    try:
        return context.keyring().status()
    except Exception as exc:  # noqa: BLE001 - any failure: the other metrics are still served
        log.warning("/metrics: cannot read the keyring status for hub_ciphertexts: %s",
                    type(exc).__name__)
        return None


def _scrape():
    body = current_app.extensions[_EXTENSION].exposition(_keyring_status)
    return Response(body, status=200, headers={"Content-Type": metrics.CONTENT_TYPE_LATEST,
                                               "Cache-Control": "no-store"})
