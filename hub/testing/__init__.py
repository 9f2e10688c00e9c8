"""pytest helpers for hub provider authors (and the hub's own tests); loaded as a pytest plugin.

- `egress_client`: the HTTP client a check gets from the hub, with a 1 s deadline and loopback
  allowed, so a check can be pointed at a fake server on 127.0.0.1.
- `fake_provider`: a fake provider API on 127.0.0.1 (a pytest-httpserver `HTTPServer`, fresh for
  each test) with shortcuts for what checks must survive: `hang` and `redirect`.
- `verify_credentials`: a provider's check run on credentials and config loaded through the
  provider's own schemas, as the hub does before it stores or checks them.
- `undocumented_fields`: the schema fields a UI could not label (no display_name or description).
- `hub_app_with`: a whole hub (SQLite in a temporary instance folder, a fresh root key, an owner
  key) with only the given providers registered, and a client that calls its REST API, so a
  provider can be exercised end to end: create an integration, verify it, read it back.

A typical test::

    def test_token(fake_provider, egress_client):
        fake_provider.expect_request("/api/auth.test", method="POST").respond_with_json({...})
        result = verify_credentials(PROVIDER, {"token": "xoxb-1"}, http=egress_client,
                                    config={"api_base_url": fake_provider.url_for("/api")})
        assert result.ok

This module must stay importable without a Flask app: it imports `hub.app` only inside the
`hub_app_with` fixture.
"""
from __future__ import annotations

import base64
import dataclasses
import secrets
import threading
import types
from typing import Any, Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from hub.egress import AllowList, EgressClient
from hub.sdk import Provider, VerificationResult

LOOPBACK_ALLOW_LIST = "127.0.0.1 ::1 localhost"
TEST_TIMEOUT = 1.0


@pytest.fixture
def egress_client() -> EgressClient:
    """An EgressClient with a 1 s deadline that may call loopback (and nothing else private)."""
    return EgressClient(timeout=TEST_TIMEOUT, allow=AllowList.parse(LOOPBACK_ALLOW_LIST))


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


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A fresh FakeProvider for this test. Fails the test if a request matched no expectation."""
    server = FakeProvider()
    server.start()
    try:
        yield server
    finally:
        server.close()
    server.check_assertions()


def verify_credentials(provider: Provider, credentials: dict, *, http,
                       auth_type: str | None = None,
                       config: dict | None = None) -> VerificationResult:
    """Run `provider.verify` on credentials and config loaded through the provider's schemas (so
    a test also proves that the values it uses are valid input); returns its VerificationResult."""
    method = provider.auth_method(auth_type) if auth_type else provider.default_auth_method
    if method is None:
        raise ValueError(f"{provider.name} has no auth method {auth_type!r}")
    loaded_credentials = method.credentials_schema().load(credentials)
    loaded_config = provider.config_schema().load(config or {})
    return provider.verify(method.id, loaded_credentials, loaded_config, http)


def undocumented_fields(provider: Provider) -> list[str]:
    """"schema.field" for every credential or config field lacking display_name or description
    metadata (a UI renders both); empty when all are documented."""
    schemas = [provider.config_schema] + [m.credentials_schema for m in provider.auth_methods]
    return [f"{schema.__name__}.{name}"
            for schema in schemas for name, field in schema().load_fields.items()
            if not (field.metadata.get("display_name") and field.metadata.get("description"))]


@dataclasses.dataclass
class HubTestApp:
    """A running hub for a test: `call` speaks to its REST API with the owner key."""

    app: Any
    client: Any
    owner_secret: str
    project: str  # the handle of the project made for the test

    def call(self, method: str, path: str, *, json=None, key: str | None = None):
        secret = self.owner_secret if key is None else key
        return self.client.open(path, method=method, json=json,
                                headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def hub_app_with(tmp_path) -> Iterator:
    """`hub_app_with(*providers, **settings) -> HubTestApp`: a hub with only these providers.

    Providers are registered through the same `hub_register_providers` hook and `register`
    validation as an installed plugin; entry points are not loaded. Checks may call loopback (fake
    provider servers) with a 1 s deadline; `settings` override any hub setting.
    """
    made = []

    def make(*providers: Provider, **settings) -> HubTestApp:
        from hub import bootstrap, hookimpl
        from hub.app import create_app

        @hookimpl
        def hub_register_providers(register):
            for provider in providers:
                register(provider)

        plugin = types.SimpleNamespace(hub_register_providers=hub_register_providers)
        config = {"INSTANCE_PATH": str(tmp_path / f"instance-{len(made)}"), "TESTING": True,
                  "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                  "PLUGINS_ENTRYPOINTS": False, "EXTRA_PLUGINS": [plugin],
                  "VERIFY_ALLOW_HOSTS": LOOPBACK_ALLOW_LIST, "VERIFY_TIMEOUT": TEST_TIMEOUT}
        config.update(settings)
        app = create_app(config)
        made.append(app)
        db = app.extensions["hub.db"]
        with app.app_context(), db.connection_context():
            setup = bootstrap.initialize(app.config, db, "test-org", "test-project")
        return HubTestApp(app, app.test_client(), setup.secret, setup.project.handle)

    yield make
    for app in made:
        db = app.extensions["hub.db"]
        if not db.is_closed():
            db.close()
