"""One access log line per request, on the logger "hub.access".

`method=GET path=/v1/projects/p/integrations status=201 duration_ms=12.3 request_id=... key_id=hub_pk_...`

The path is logged without its query string (a cursor, a provider name: nothing secret today, but
kept out anyway), with control characters escaped so a crafted path cannot forge a line. The key id
is the API key's public id when the request authenticated, else "-". Never a header, a body or a
secret.
"""
from __future__ import annotations

import logging
import re
import time

from flask import g, request

log = logging.getLogger("hub.access")

_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def _escaped(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def init_app(app) -> None:
    @app.before_request
    def _start_clock():
        g._access_started = time.perf_counter()

    @app.after_request
    def _log_access(response):
        if not log.isEnabledFor(logging.INFO):  # the line would be dropped: nothing to format
            return response
        started = g.get("_access_started")
        duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        caller = g.get("principal")
        key_id = getattr(caller, "actor", None) if getattr(caller, "key_id", None) else None
        log.info("method=%s path=%s status=%d duration_ms=%.1f request_id=%s key_id=%s",
                 _escaped(request.method), _escaped(request.path), response.status_code, duration,
                 g.get("request_id") or "-", key_id or "-")
        return response
