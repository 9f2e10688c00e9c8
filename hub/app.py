"""The Flask application factory: reads as the list of the hub's parts."""
from __future__ import annotations

import logging

from flask import Flask

from hub import config as settings


def create_app(config: dict | None = None) -> Flask:
    from hub import api, cli, db, keyring_access, plugins, verification

    app = Flask("hub", instance_path=str(settings.instance_path(config)), instance_relative_config=True)
    settings.load_settings(app.config, config)
    problem = verification.settings_problem(app.config)
    if problem:
        raise settings.SettingsError(problem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api.init_request_ids(app)  # first, so even a request the database fails carries its id
    db.init_app(app)
    keyring_access.init_app(app)
    plugins.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app
