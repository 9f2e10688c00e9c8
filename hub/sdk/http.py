"""The HTTP client a check is handed, as a protocol, and helpers for reading provider answers.

The hub's implementation is `hub.egress.EgressClient` (timeouts, a size cap and the address policy
applied); a check talks only to this protocol, so tests can hand it any client.
"""
from __future__ import annotations

import datetime
import email.utils
import math
from typing import Any, Mapping, Protocol

from hub.egress import EgressError

__all__ = ["EgressError", "HttpClient", "HttpResponse", "retry_after"]


class HttpResponse(Protocol):
    status: int
    headers: Any  # case-insensitive mapping
    body: bytes  # capped in size by the hub

    def json(self) -> Any: ...


class HttpClient(Protocol):
    """The client the hub hands to `verify`: timeouts, size cap and address policy already applied.

    `request` raises `EgressError` (code `unreachable`, `timeout` or `blocked_address`);
    a check may let it propagate, the hub turns it into a failed result.
    """

    def request(self, method: str, url: str, *, headers: dict | None = None,
                json: Any = None, data: bytes | None = None) -> HttpResponse: ...


def retry_after(headers: Mapping[str, str], *, now: datetime.datetime | None = None) -> int | None:
    """Seconds to wait before trying again, from a rate-limited answer's headers, or None.

    Reads `Retry-After` as a delay in seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00
    GMT`), else a rate-limit reset time in epoch seconds or milliseconds (`X-RateLimit-Reset`, as
    GitHub sends; `X-RateLimit-Reset-After` as seconds). Never negative; a date in the past is 0.

    :param headers: a mapping of header names (any case) to values, such as `HttpResponse.headers`.
    :param now: the current time (aware), for tests; default: now.
    """
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    # Header names are case-insensitive; a plain dict from a test or a plugin may not be.
    headers = {str(name).lower(): value for name, value in headers.items()}
    value = (headers.get("retry-after") or "").strip()
    if value.isdigit():
        return _whole(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=datetime.timezone.utc)
            return max(0, math.ceil((when - moment).total_seconds()))
    after = (headers.get("x-ratelimit-reset-after") or "").strip()
    if after.isdigit():
        return _whole(after)
    reset = (headers.get("x-ratelimit-reset") or "").strip()
    if reset.isdigit():
        epoch = _whole(reset)
        if epoch > 10**11:  # milliseconds (10**11 seconds is the year 5138)
            epoch = epoch / 1000
        return max(0, math.ceil(epoch - moment.timestamp()))
    return None


def _whole(digits: str) -> int:
    """The number the digits spell, capped: a 5,000-digit header must not reach int()'s limit."""
    return int(digits) if len(digits) <= 18 else 10**18
