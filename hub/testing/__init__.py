"""pytest helpers for hub provider authors (and the hub's own tests); loaded as a pytest plugin.

- `egress_client`: the HTTP client a check gets from the hub, with a 1 s deadline and loopback
  allowed, so a check can be pointed at a fake server on 127.0.0.1.
- `fake_provider`: a fake provider API on 127.0.0.1 (a pytest-httpserver `HTTPServer`, fresh for
  each test) with shortcuts for what checks must survive: `hang`, `redirect`, `rate_limit` (each
  header form), `html` and `oversized`.
- `fake_oauth`: `fake_oauth(kind, **options)` starts a fake OAuth provider (`FakeOAuthServer`:
  Slack, GitHub or Atlassian consent, token and identity endpoints on 127.0.0.1), stopped after
  the test; `server.consent(authorize_url)` plays the person's browser.
- `assert_no_echo`: one line that fails if a check's result shows a credential.
- `verify_credentials`: a provider's check run as the hub runs it (contained by the hub's
  `run_check`), on credentials and config loaded through the provider's own schemas.
- `undocumented_fields`: the schema fields a UI could not label (no display_name or description).
- `hub_app_with`: a whole hub (SQLite in a temporary instance folder, a fresh root key, an owner
  key) with only the given providers registered, and a client that calls its REST API, so a
  provider can be exercised end to end: create an integration, verify it, read it back.

Installing the hub registers this module with pytest (the `pytest11` entry point), so it is loaded
by every test run in that environment, the hub's or not. It must therefore load without the
optional test dependencies: pytest-httpserver (`hub[test]`) is imported only when a test uses
`fake_provider`, and `hub.app` only when one uses `hub_app_with`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import pytest

from hub.testing.app import HubTestApp, hub_app_with
from hub.testing.checks import (
    assert_no_echo,
    result_from_check,
    undocumented_fields,
    verify_credentials,
)
from hub.testing.egress import LOOPBACK_ALLOW_LIST, TEST_TIMEOUT, egress_client

if TYPE_CHECKING:
    from hub.testing.fake_oauth import FakeOAuthServer
    from hub.testing.fake_server import FakeProvider

__all__ = ["FakeOAuthServer", "FakeProvider", "HubTestApp", "LOOPBACK_ALLOW_LIST", "TEST_TIMEOUT",
           "assert_no_echo", "egress_client", "fake_oauth", "fake_provider", "hub_app_with", "result_from_check",
           "undocumented_fields", "verify_credentials"]

MISSING_HTTPSERVER = (
    "The fake_provider fixture runs a fake provider API with pytest-httpserver, which is not "
    "installed in this environment. Install it with `pip install pytest-httpserver` (or install "
    "the hub with its test extras: `pip install 'hub[test]'`) and run the tests again.")


def _fake_server_module():
    try:
        from hub.testing import fake_server
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "pytest_httpserver":
            raise
    else:
        return fake_server
    # Outside the except block, so the report is this sentence and not an import traceback.
    pytest.fail(MISSING_HTTPSERVER, pytrace=False)


@pytest.fixture
def fake_provider() -> Iterator["FakeProvider"]:
    """A fresh FakeProvider for this test. Fails the test if a request matched no expectation."""
    server = _fake_server_module().FakeProvider()
    server.start()
    try:
        yield server
    finally:
        server.close()
    server.check_assertions()


@pytest.fixture
def fake_oauth() -> Iterator:
    """`fake_oauth(kind="slack", **options) -> FakeOAuthServer`, started; stopped after the test.

    Options are FakeOAuthServer's (client_id, client_secret, access_ttl, scopes, redirect_uris...).
    """
    from hub.testing.fake_oauth import FakeOAuthServer

    made: list[FakeOAuthServer] = []

    def make(kind: str = "slack", **options) -> "FakeOAuthServer":
        server = FakeOAuthServer(kind, **options).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


def __getattr__(name: str) -> Any:
    # `from hub.testing import FakeProvider` keeps working, importing pytest-httpserver only then.
    if name == "FakeProvider":
        try:
            from hub.testing.fake_server import FakeProvider
        except ImportError as exc:
            raise ImportError(MISSING_HTTPSERVER.replace("The fake_provider fixture",
                                                         "hub.testing.FakeProvider")) from exc
        return FakeProvider
    if name == "FakeOAuthServer":
        from hub.testing.fake_oauth import FakeOAuthServer
        return FakeOAuthServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
