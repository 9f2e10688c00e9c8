"""`hub_app_with`: a whole hub for a test, with only the providers it is given.

Imports `hub.app` only inside the fixture, so that loading the hub's pytest plugin never builds
(or imports) a Flask app in a test run that does not ask for one.
"""
from __future__ import annotations

import base64
import dataclasses
import secrets
import types
from typing import Any, Iterator

import pytest

from hub.sdk import Provider
from hub.testing.egress import LOOPBACK_ALLOW_LIST, TEST_TIMEOUT

__all__ = ["HubTestApp", "hub_app_with"]


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
