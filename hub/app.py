"""The Flask application factory: reads as the list of the hub's parts."""
from __future__ import annotations

import logging
import types

from flask import Flask, appcontext_pushed, g

from hub import api, cli, plugins, settings
from hub.api import headers as response_headers
from hub.crypto import access as keyring_access
from hub.storage import database, models


class _Hub(Flask):
    """Flask, remembering which functions are plain (not async): it asks `ensure_sync` for every
    hook and view of every request, each time an `inspect.iscoroutinefunction`."""

    def ensure_sync(self, func):
        # A method is async exactly when its function is (MethodView hands Flask bound methods).
        target = func.__func__ if type(func) is types.MethodType else func
        if type(target) is not types.FunctionType:
            return super().ensure_sync(func)
        plain = self.__dict__.setdefault("_hub_plain_functions", set())  # one per function
        if target in plain:
            return func
        synced = super().ensure_sync(func)
        if synced is func:
            plain.add(target)
        return synced


def create_app(config: dict | None = None) -> Flask:
    """A hub: settings, database, keyring, plugins, the REST API and the CLI commands.

    :param config: settings that win over every other source (tests pass the database URL, the
        root key and the plugins here).
    :raises hub.errors.SettingsError: a setting is malformed; the message names it.
    """
    app = _Hub("hub", instance_path=str(settings.instance_path(config)), instance_relative_config=True)
    settings.load_settings(app.config, config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api.init_request_ids(app)  # first, so even a request the database fails carries its id
    response_headers.init_app(app)  # on every response, errors included
    database.init_app(app)
    _bind_database_per_context(app)
    keyring_access.init_app(app)
    plugins.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app


def _bind_database_per_context(app: Flask) -> None:
    """While one of this app's contexts is active, the models use this app's database."""
    db = app.extensions["hub.db"]

    def bind(sender, **_):
        g._hub_db_token = models.bind(db)

    appcontext_pushed.connect(bind, app, weak=False)  # per app: sender=app; lives as long as it

    @app.teardown_appcontext
    def unbind(exc):
        token = g.pop("_hub_db_token", None)
        if token is not None:
            models.unbind(token)
