"""Prometheus metrics: the collectors behind `GET /metrics` (no Flask; hub/api/metrics.py serves
them).

Two kinds:

- **Per app** (`AppMetrics`, one registry per app, never prometheus-client's global default
  registry, so several apps in one process, as in the tests, do not collide): the HTTP requests
  (`hub_http_requests_total{route,method,status}`,
  `hub_http_request_duration_seconds{route,method}`) and, computed at each scrape from
  `KeyRing.status()`, `hub_ciphertexts{key_id,state}`.
- **Per process**, counted by the domain through the three functions below: `count_check`
  (`hub_checks_total{provider,outcome}`, outcome `ok` or the error code),
  `count_audit_write_failure` (`hub_audit_write_failures_total`) and `count_keyring_reload`
  (`hub_keyring_reloads_total`). The domain does not know its app, so these are one counter set
  for the process, shown by every app of the process that has metrics on; they are no-ops until
  one has (`enable_domain_counters`). In multiprocess mode the numbers are per process anyway and
  summed at scrape.

Multiprocess mode (`hub serve --workers N`): the operator sets `PROMETHEUS_MULTIPROC_DIR` to a
fresh, empty directory writable by the workers *before* the server starts (prometheus-client reads
it when first imported) and empties it on every restart. Each worker then writes its counters
there, and a scrape answered by any worker sums the files of all of them (`MultiProcessCollector`).

Label values are bounded and never hold a secret: a route is the URL rule
(`/v1/projects/<project>/integrations`), never the raw path; a method outside the standard ones is
`other`; a provider is a loaded provider's name; an outcome is `ok` or one of the SDK's error codes;
a key id is a data key's id (`dk_...`, printed by `hub crypto status`, no key material).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily

__all__ = ["CONTENT_TYPE_LATEST", "UNMATCHED_ROUTE", "AppMetrics", "count_audit_write_failure",
           "count_check", "count_keyring_reload", "enable_domain_counters", "multiprocess_dir"]

UNMATCHED_ROUTE = "<unmatched>"  # the route label of a request no URL rule matched (a 404)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Checks run up to HUB_VERIFY_TIMEOUT (default 10 s, at most 60): buckets reach past it.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def multiprocess_dir() -> str | None:
    """The directory of prometheus-client's multiprocess mode, or None (one process).

    The mode is what prometheus-client chose when it was imported (its counters then write to
    files), not the environment now: a variable set later changes nothing.
    """
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


# --- per process: counted by the domain ----------------------------------------------------------

class _DomainCounters:
    def __init__(self):
        # Unregistered (registry=None): each app with metrics on registers them in its own registry.
        self.checks = Counter("hub_checks", "Provider checks run, by provider and outcome (ok or "
                              "the error code).", ["provider", "outcome"], registry=None)
        self.audit_write_failures = Counter(
            "hub_audit_write_failures", "Audit events that could not be written (AuditUnavailable: "
            "the change or read they were for did not happen).", registry=None)
        self.keyring_reloads = Counter(
            "hub_keyring_reloads", "Times this process re-read the keyring from the database "
            "(after a rotation elsewhere, a new signing key).", registry=None)

    def collectors(self):
        return (self.checks, self.audit_write_failures, self.keyring_reloads)


_domain: _DomainCounters | None = None  # made on the first enable: in multiprocess mode a counter
_domain_lock = threading.Lock()         # writes a file as it is made, so not at import


def enable_domain_counters() -> _DomainCounters:
    """Start counting checks, audit write failures and keyring reloads in this process
    (idempotent)."""
    global _domain
    with _domain_lock:
        if _domain is None:
            _domain = _DomainCounters()
        return _domain


def count_check(provider: str, outcome: str) -> None:
    """One provider check ran; `outcome` is "ok" or its error code. A no-op while metrics are
    off."""
    domain = _domain
    if domain is not None:
        domain.checks.labels(provider=str(provider), outcome=str(outcome)).inc()


def count_audit_write_failure() -> None:
    """An audit event could not be written. A no-op while metrics are off."""
    domain = _domain
    if domain is not None:
        domain.audit_write_failures.inc()


def count_keyring_reload() -> None:
    """The keyring was re-read from the database. A no-op while metrics are off."""
    domain = _domain
    if domain is not None:
        domain.keyring_reloads.inc()


# --- per app ----------------------------------------------------------------------------------

class _Families:
    """A collector of metric families computed beforehand (the scrape-time gauges)."""

    def __init__(self, families):
        self._families = list(families)

    def collect(self):
        return iter(self._families)


def ciphertexts_family(status: Iterable[dict] | None) -> GaugeMetricFamily:
    """`hub_ciphertexts{key_id,state}` from `KeyRing.status()` rows (None: could not be read)."""
    family = GaugeMetricFamily("hub_ciphertexts", "Sealed columns each data key still protects "
                               "(as 'hub crypto status' counts them), read at scrape.",
                               labels=["key_id", "state"])
    for row in status or ():
        family.add_metric([str(row["id"]), str(row["state"])], float(row["ciphertexts"]))
    return family


class AppMetrics:
    """One app's request metrics and its scrape."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("hub_http_requests", "HTTP requests answered, by route (the URL "
                                "rule), method and status.", ["route", "method", "status"],
                                registry=self.registry)
        self.duration = Histogram("hub_http_request_duration_seconds", "Time to answer an HTTP "
                                  "request, by route (the URL rule) and method.",
                                  ["route", "method"], buckets=_LATENCY_BUCKETS,
                                  registry=self.registry)
        for collector in enable_domain_counters().collectors():
            self.registry.register(collector)

    def observe_request(self, rule: str | None, method: str, status: int,
                        seconds: float | None) -> None:
        route = rule or UNMATCHED_ROUTE
        method = method if method in _METHODS else "other"
        self.requests.labels(route=route, method=method, status=str(int(status))).inc()
        if seconds is not None:
            self.duration.labels(route=route, method=method).observe(max(seconds, 0.0))

    def exposition(self, keyring_status: Callable[[], list[dict] | None]) -> bytes:
        """The text format of every metric: this app's (or, in multiprocess mode, every worker's
        summed from PROMETHEUS_MULTIPROC_DIR) and the gauges read now (`keyring_status()`)."""
        gauges = _Families([ciphertexts_family(keyring_status())])
        if multiprocess_dir() is None:
            return generate_latest(self.registry) + generate_latest(_registry_of(gauges))
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(gauges)
        return generate_latest(registry)


def _registry_of(*collectors) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return registry
