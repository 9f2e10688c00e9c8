"""The fake provider API behind the `fake_provider` fixture: pytest-httpserver on 127.0.0.1.

A module of its own because pytest-httpserver is an optional dependency (`hub[test]`): the hub's
pytest plugin (`hub.testing`) is loaded in every test run of an environment where the hub is
installed, and must not import it until a test asks for a fake server.
"""
from __future__ import annotations

import email.utils
import json as jsonlib
import threading
import time

from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import METHOD_ALL
from werkzeug import Request, Response

from hub.egress.client import DEFAULT_MAX_BODY

__all__ = ["FakeProvider"]


class FakeProvider(HTTPServer):
    """A fake provider API: pytest-httpserver on 127.0.0.1, serving requests concurrently.

    Use it as a context manager (or through the `fake_provider` fixture); on exit it releases
    hanging requests and stops. Register answers with `expect_request(...)`; inspect what the
    check sent with `requests` / `last_request`.
    """

    # How long a `hang` holds a request if nobody releases it (a safety net, not a test value).
    MAX_HANG_SECONDS = 30.0

    def __init__(self, ssl_context=None):
        # Threaded: a hanging request must not hold up the rest of the test.
        super().__init__(host="127.0.0.1", port=0, ssl_context=ssl_context, threaded=True)
        self._release = threading.Event()

    def thread_target(self) -> None:
        # A short poll interval makes `stop` take milliseconds instead of up to half a second.
        self.server.serve_forever(poll_interval=0.01)

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._release.set()
        if self.is_running():
            self.stop()  # joins the request threads, now released

    @property
    def base_url(self) -> str:
        """http(s)://127.0.0.1:PORT, no trailing slash."""
        return self.url_for("/").rstrip("/")

    @property
    def requests(self) -> list[Request]:
        """The requests received so far, oldest first."""
        return [request for request, _response in self.log]

    @property
    def last_request(self) -> Request:
        assert self.log, "the fake provider received no request"
        return self.log[-1][0]

    def hang(self, uri: str, method: str = "GET") -> None:
        """Answer nothing to `method uri` until the test ends (for timeout tests)."""
        release = self._release

        def hold(request: Request) -> Response:
            release.wait(self.MAX_HANG_SECONDS)
            return Response("released", status=503)

        self.expect_request(uri, method=method).respond_with_handler(hold)

    def redirect(self, uri: str, location: str, method: str = "GET", status: int = 302) -> None:
        """Answer `method uri` with a redirect to `location`."""
        self.expect_request(uri, method=method).respond_with_data(
            "", status=status, headers={"Location": location})

    # How `rate_limit` says when to come back: form -> the header it sets by default.
    RATE_LIMIT_FORMS = {
        "seconds": "Retry-After",          # Retry-After: 30
        "http_date": "Retry-After",        # Retry-After: Wed, 21 Oct 2026 07:28:00 GMT
        "epoch": "X-RateLimit-Reset",      # X-RateLimit-Reset: 1792567680 (epoch seconds)
        "epoch_ms": "X-RateLimit-Reset",   # X-RateLimit-Reset: 1792567680000 (milliseconds)
        "reset_after": "X-RateLimit-Reset-After",  # X-RateLimit-Reset-After: 30
    }

    def rate_limit(self, uri: str, *, form: str = "seconds", seconds: int = 30,
                   header: str | None = None, status: int = 429, json=None,
                   headers: dict | None = None, method: str = METHOD_ALL) -> None:
        """Answer `method uri` as rate limited: `status` (429), a wait of `seconds` in the header
        of `form` (see RATE_LIMIT_FORMS; times are computed when the request arrives), `json` as
        the body if given (else an empty body), and any further `headers`.

        `header` renames the header (a provider's own: `header="X-RateLimit-Requests-Reset"`,
        `form="epoch_ms"`, as Linear sends).
        """
        if form not in self.RATE_LIMIT_FORMS:
            raise ValueError(f"form must be one of {', '.join(self.RATE_LIMIT_FORMS)}")
        name = header or self.RATE_LIMIT_FORMS[form]

        def answer(request: Request) -> Response:
            now = time.time()
            value = {"seconds": str(seconds), "reset_after": str(seconds),
                     "http_date": email.utils.formatdate(now + seconds, usegmt=True),
                     "epoch": str(int(now + seconds)),
                     "epoch_ms": str(int((now + seconds) * 1000))}[form]
            body = "" if json is None else jsonlib.dumps(json)
            return Response(body, status=status, headers={name: value, **(headers or {})},
                            content_type="application/json" if json is not None else "text/plain")

        self.expect_request(uri, method=method).respond_with_handler(answer)

    def html(self, uri: str, status: int = 200, *, method: str = METHOD_ALL,
             body: str = "<html><body><h1>Sign in</h1><form action='/login'></form></body></html>"
             ) -> None:
        """Answer `method uri` with an HTML page (a login page, a proxy's error page) and
        `status`: what a check meets when a URL is wrong or a proxy stands in front of the API."""
        self.expect_request(uri, method=method).respond_with_data(
            body, status=status, content_type="text/html; charset=utf-8")

    def oversized(self, uri: str, status: int = 200, *, method: str = METHOD_ALL,
                  size: int = DEFAULT_MAX_BODY + 1) -> None:
        """Answer `method uri` with a JSON-looking body of `size` bytes (default: one byte more
        than the hub reads), so the check gets a truncated body whose `json()` raises."""
        head = b'{"ok": true, "padding": "'
        body = head + b"x" * max(0, size - len(head) - 2) + b'"}'
        self.expect_request(uri, method=method).respond_with_data(
            body, status=status, content_type="application/json")
