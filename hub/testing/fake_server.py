"""The fake provider API behind the `fake_provider` fixture: pytest-httpserver on 127.0.0.1.

A module of its own because pytest-httpserver is an optional dependency (`hub[test]`): the hub's
pytest plugin (`hub.testing`) is loaded in every test run of an environment where the hub is
installed, and must not import it until a test asks for a fake server.
"""
from __future__ import annotations

import threading

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

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
